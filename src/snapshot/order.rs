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
use std::collections::BinaryHeap;

/// Returns the indexes of `keys` in output order. `keys[i]` is block i's (rank, sort name);
/// an edge `(before, after)` says block `before` must come before block `after`.
pub(crate) fn order<K: Ord>(keys: &[K], edges: &[(usize, usize)]) -> Vec<usize> {
    // Compare keys once: afterwards the queue holds positions in this sorted order.
    let mut by_key: Vec<usize> = (0..keys.len()).collect();
    by_key.sort_by(|&a, &b| keys[a].cmp(&keys[b]).then(a.cmp(&b)));
    let mut position = vec![0; keys.len()];
    for (at, &block) in by_key.iter().enumerate() {
        position[block] = at;
    }
    let mut waiting_on = vec![0usize; keys.len()];
    let mut unlocks: Vec<Vec<usize>> = vec![Vec::new(); keys.len()];
    let mut unique: Vec<(usize, usize)> = edges.iter().copied().filter(|(b, a)| b != a).collect();
    unique.sort_unstable();
    unique.dedup();
    for (before, after) in unique {
        waiting_on[after] += 1;
        unlocks[before].push(after);
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..by_key.len())
        .filter(|&at| waiting_on[by_key[at]] == 0)
        .map(Reverse)
        .collect();
    let mut placed = vec![false; keys.len()];
    // The smallest block not yet placed, for breaking a cycle.
    let mut smallest = 0;
    let mut out = Vec::with_capacity(keys.len());
    while out.len() < keys.len() {
        let next = match ready.pop() {
            Some(Reverse(at)) => by_key[at],
            None => {
                while placed[by_key[smallest]] {
                    smallest += 1;
                }
                by_key[smallest]
            }
        };
        if placed[next] {
            continue;
        }
        placed[next] = true;
        out.push(next);
        for &after in &unlocks[next] {
            waiting_on[after] = waiting_on[after].saturating_sub(1);
            if waiting_on[after] == 0 && !placed[after] {
                ready.push(Reverse(position[after]));
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
