//! The order of a snapshot's blocks: by kind, then by name, except where a dependency needs
//! an object earlier (a view on a view, a function an index calls, an index on a
//! materialized view). Pure: it sees ranks, names and edges, never the database.
//!
//! This is Kahn's topological sort that always takes, among the blocks whose dependencies
//! are all placed, the one with the smallest (rank, name). With no edges that is a plain sort
//! by kind and name; edges come from the schema, not from oids, so two databases with the
//! same schema get the same order. A cycle (which a loadable schema rarely has) is broken by
//! placing the smallest remaining block, so the order stays total and deterministic.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

/// Returns the indexes of `keys` in output order. `keys[i]` is block i's (rank, sort name);
/// an edge `(before, after)` says block `before` must come before block `after`.
pub(crate) fn order<K: Ord + Clone>(keys: &[K], edges: &[(usize, usize)]) -> Vec<usize> {
    let mut waiting_on = vec![0usize; keys.len()];
    let mut unlocks: Vec<Vec<usize>> = vec![Vec::new(); keys.len()];
    let unique: BTreeSet<(usize, usize)> = edges
        .iter()
        .copied()
        .filter(|(before, after)| before != after)
        .collect();
    for (before, after) in unique {
        waiting_on[after] += 1;
        unlocks[before].push(after);
    }
    let mut ready: BinaryHeap<Reverse<(K, usize)>> = (0..keys.len())
        .filter(|&i| waiting_on[i] == 0)
        .map(|i| Reverse((keys[i].clone(), i)))
        .collect();
    // Blocks not yet placed, smallest first, for breaking a cycle.
    let mut pending: BTreeSet<(K, usize)> = (0..keys.len()).map(|i| (keys[i].clone(), i)).collect();
    let mut out = Vec::with_capacity(keys.len());
    while out.len() < keys.len() {
        let next = match ready.pop() {
            Some(Reverse((_, i))) if !pending.contains(&(keys[i].clone(), i)) => continue,
            Some(Reverse((_, i))) => i,
            None => pending.iter().next().expect("blocks remain").1,
        };
        pending.remove(&(keys[next].clone(), next));
        out.push(next);
        for &after in &unlocks[next] {
            waiting_on[after] = waiting_on[after].saturating_sub(1);
            if waiting_on[after] == 0 && pending.contains(&(keys[after].clone(), after)) {
                ready.push(Reverse((keys[after].clone(), after)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_edges_it_sorts_by_key() {
        let keys = [(2, "b"), (1, "z"), (2, "a"), (1, "a")];
        assert_eq!(order(&keys, &[]), vec![3, 1, 2, 0]);
    }

    #[test]
    fn a_dependency_moves_a_block_after_what_it_needs() {
        // A view (rank 5) "a_view" on view "b_view": b_view must come first.
        let keys = [(5, "a_view"), (5, "b_view"), (1, "table")];
        assert_eq!(order(&keys, &[(1, 0), (2, 1)]), vec![2, 1, 0]);
    }

    #[test]
    fn a_lower_rank_waits_for_a_higher_rank_it_depends_on() {
        // An index (rank 3) on a materialized view (rank 6) follows the view at once.
        let keys = [(3, "idx"), (6, "mv"), (6, "zz_mv"), (3, "other_idx")];
        assert_eq!(order(&keys, &[(1, 0)]), vec![3, 1, 0, 2]);
    }

    #[test]
    fn a_cycle_is_broken_deterministically() {
        let keys = [(1, "b"), (1, "a"), (0, "c")];
        let edges = [(0, 1), (1, 0)];
        assert_eq!(order(&keys, &edges), vec![2, 1, 0]);
        assert_eq!(order(&keys, &edges), order(&keys, &edges));
    }

    #[test]
    fn duplicate_and_self_edges_are_harmless() {
        let keys = [(0, "a"), (0, "b")];
        assert_eq!(order(&keys, &[(1, 0), (1, 0), (0, 0)]), vec![1, 0]);
    }
}
