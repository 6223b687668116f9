//! `kind = "copy"`: parent columns copied into the child rows that reference the parent.
//!
//! Up to four triggers: the fan-out (parent -> every child row), the start (a new or
//! re-pointed child row takes the parent's values, read FOR SHARE), and with direction
//! `both` the push (child -> parent, whose fan-out reaches the siblings), or with
//! `parent_to_child` the refusal of a direct child edit.

use anyhow::Result;

use super::{
    LIMITS, Names, and_then, batched_backfill, comment_lines, create_trigger, list, qualified,
    search_path, search_path_comment, trigger_function, tuple,
};
use crate::db::{quote_ident, quote_literal};
use crate::sync::resolve::ResolvedCopy;
use crate::sync::spec::Direction;

pub(super) fn generate(
    names: &Names,
    copy: &ResolvedCopy,
    batch: Option<u32>,
) -> Result<(String, String)> {
    let g = Copy::new(names, copy, batch.is_some());
    let mut up = g.header(batch);
    up.push_str(&g.add_columns());
    up.push_str(&g.functions()?);
    up.push_str(&g.triggers());
    up.push_str(&g.comments());
    match batch {
        None => up.push_str(&g.backfill_in_transaction()),
        Some(rows) => up.push_str(&g.backfill_in_batches(rows)?),
    }
    Ok((up, g.rollback()))
}

struct Copy<'a> {
    names: &'a Names,
    copy: &'a ResolvedCopy,
    parent: String,
    child: String,
    columns: Vec<&'a str>,
    child_key: Vec<&'a str>,
    resumable: bool,
    search_path: String,
}

impl<'a> Copy<'a> {
    fn new(names: &'a Names, copy: &'a ResolvedCopy, resumable: bool) -> Copy<'a> {
        Copy {
            names,
            copy,
            parent: copy.spec.parent.quoted(),
            child: copy.spec.child.quoted(),
            columns: copy.columns.iter().map(|c| c.name.as_str()).collect(),
            child_key: copy.key_pairs.iter().map(|(c, _)| c.as_str()).collect(),
            resumable,
            search_path: search_path(&copy.type_schemas),
        }
    }

    fn both(&self) -> bool {
        self.copy.spec.direction == Direction::Both
    }

    /// A function of the spec, in the schema of the table its trigger is on.
    fn function(&self, on_child: bool, role: &str) -> String {
        let table = if on_child {
            &self.copy.spec.child
        } else {
            &self.copy.spec.parent
        };
        qualified(&table.schema, &self.names.object(role))
    }

    /// `c."image_id" = p."id" AND …`: the foreign key's join.
    fn join(&self, child: &str, parent: &str) -> String {
        self.copy
            .key_pairs
            .iter()
            .map(|(c, p)| format!("{child}.{} = {parent}.{}", quote_ident(c), quote_ident(p)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// `"a" = src."a",\n        "b" = src."b"`.
    fn assignments(&self, source: &str, indent: &str) -> String {
        self.columns
            .iter()
            .map(|c| format!("{} = {source}.{}", quote_ident(c), quote_ident(c)))
            .collect::<Vec<_>>()
            .join(&format!(",\n{indent}"))
    }

    /// The push's SET: each column the child's update changed takes its new value, the
    /// others keep the parent's (one column: simply its new value, the trigger's WHEN having
    /// seen it change).
    fn changed_assignments(&self) -> String {
        if let [only] = self.columns.as_slice() {
            let q = quote_ident(only);
            return format!("{q} = NEW.{q}");
        }
        self.columns
            .iter()
            .map(|c| {
                let q = quote_ident(c);
                format!(
                    "{q} = CASE WHEN OLD.{q} IS DISTINCT FROM NEW.{q} THEN NEW.{q} ELSE p.{q} END"
                )
            })
            .collect::<Vec<_>>()
            .join(",\n        ")
    }

    /// The push's condition: some column the child's update changed differs in the parent.
    fn changed_and_different(&self) -> String {
        if let [only] = self.columns.as_slice() {
            let q = quote_ident(only);
            return format!("p.{q} IS DISTINCT FROM NEW.{q}");
        }
        let terms: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let q = quote_ident(c);
                format!("(OLD.{q} IS DISTINCT FROM NEW.{q} AND p.{q} IS DISTINCT FROM NEW.{q})")
            })
            .collect();
        format!("({})", terms.join("\n           OR "))
    }

    fn distinct(&self, a: &str, b: &str) -> String {
        format!(
            "{} IS DISTINCT FROM {}",
            tuple(a, &self.columns),
            tuple(b, &self.columns)
        )
    }

    fn header(&self, batch: Option<u32>) -> String {
        let spec = &self.copy.spec;
        let pairs: Vec<String> = self
            .copy
            .key_pairs
            .iter()
            .map(|(c, p)| format!("{c} -> {p}"))
            .collect();
        let mut h = String::new();
        if batch.is_some() {
            h.push_str("-- pgstrata:no-transaction\n");
        }
        h.push_str(&comment_lines(&format!(
            "Sync spec {name} (sync/{name}.toml, kind = \"copy\", direction = \"{dir}\"), \
             generated by `pgstrata sync new`: regenerate rather than edit. Columns {cols} of \
             {parent} are copied into every {child} row that references it through the foreign \
             key {fk} ({pairs}), and kept equal {how}.",
            name = self.names.spec,
            dir = match spec.direction {
                Direction::Both => "both",
                Direction::ParentToChild => "parent_to_child",
            },
            cols = self.columns.join(", "),
            parent = spec.parent,
            child = spec.child,
            fk = self.copy.foreign_key,
            pairs = pairs.join(", "),
            how = if self.both() {
                "in both directions: an edit of the parent or of any copy reaches all of them"
            } else {
                "from the parent: a direct edit of a copy is refused"
            },
        )));
        h.push_str(
            "--\n\
             -- Built to converge under concurrent writers at READ COMMITTED (PostgreSQL's default):\n\
             -- * Triggers fire only when a synced column really changes (WHEN … IS DISTINCT FROM …, NULL\n\
             --   being a value like any other), and the UPDATEs they issue skip rows that already hold\n\
             --   the value, so no write is made for nothing.\n",
        );
        let setting = self.names.setting();
        if self.both() {
            h.push_str(
                "-- * No ping-pong: the fan-out (parent -> children) runs with the guard setting = 'on'\n\
                 --   (a function-level SET, restored when it returns, even on error), and the child ->\n\
                 --   parent trigger is skipped while it is on, so a child row changed by the fan-out is not\n\
                 --   echoed back. pg_trigger_depth() is not used for this: it would also skip child updates\n\
                 --   made by other features' triggers (an audit or a cascade that edits a copy), which must\n\
                 --   reach the parent.\n",
            );
        } else {
            h.push_str(
                "-- * The fan-out (parent -> children) runs with the guard setting = 'on' (a\n\
                 --   function-level SET, restored when it returns); a child update changing a copy while it\n\
                 --   is off is refused (SQLSTATE 23001, with a hint), whoever makes it: pg_trigger_depth()\n\
                 --   is not used, as it would let other features' triggers edit copies unseen.\n",
            );
        }
        h.push_str(
            "-- * A new child row (or one re-pointed to another parent) takes the parent's current values,\n\
             --   read with SELECT … FOR SHARE: when a parent update is in flight the child write waits for\n\
             --   it and, under READ COMMITTED, reads the committed value; when the child write comes first,\n\
             --   its share lock makes the parent update wait until the child row is committed, and the\n\
             --   fan-out (a new statement, so a new snapshot) then sees and updates it. Values given for\n\
             --   the copies in such a write are overwritten: the parent is the reference.\n",
        );
        if self.both() {
            h.push_str(
                "-- * Opposite updates (a parent and one of its children) lock the same rows in opposite\n\
                 --   orders: either one waits for the other and then writes its value over it everywhere,\n\
                 --   or PostgreSQL aborts one with a deadlock (40P01) for the client to retry. They never\n\
                 --   both commit with different values.\n",
            );
        }
        h.push_str(
            "-- * Deletes need nothing: a deleted child takes its copy with it, and a parent cannot be\n\
             --   deleted while children reference it (or they go with it, as the foreign key says).\n",
        );
        h.push_str(&comment_lines(&format!(
            "* Functions are SECURITY INVOKER (a writer needs rights on both tables, as if it \
             wrote both itself) with {}, every name qualified.",
            search_path_comment(&self.copy.type_schemas)
        )));
        h.push_str(LIMITS);
        h.push_str(&format!("-- The guard setting: {setting}.\n"));
        if let Some(rows) = batch {
            h.push_str(&format!(
                "--\n\
                 -- Backfill in committed batches of {rows} rows (backfill_batch): this migration runs\n\
                 -- outside a transaction, creating the triggers first so that rows written during the\n\
                 -- backfill stay in sync, then fixing the copies batch by batch. Every statement can run\n\
                 -- again: after a crash, `pgstrata repair --forget` the version and run `up` again; the\n\
                 -- backfill only touches rows that still differ.\n"
            ));
        }
        h.push('\n');
        h
    }

    fn add_columns(&self) -> String {
        let missing: Vec<_> = self.copy.columns.iter().filter(|c| !c.child_has).collect();
        if missing.is_empty() {
            return String::new();
        }
        let if_not = if self.resumable { "IF NOT EXISTS " } else { "" };
        let adds: Vec<String> = missing
            .iter()
            .map(|c| {
                format!(
                    "    ADD COLUMN {if_not}{} {}",
                    quote_ident(&c.name),
                    c.parent_type
                )
            })
            .collect();
        let mut sql = format!(
            "-- The copies the child lacks, with the parent's types (nullable, no default: adding them\n\
             -- rewrites nothing).\n\
             ALTER TABLE {}\n{};\n\n",
            self.child,
            adds.join(",\n")
        );
        for c in missing {
            sql.push_str(&format!(
                "COMMENT ON COLUMN {}.{} IS {};\n",
                self.child,
                quote_ident(&c.name),
                self.names.comment(&format!(
                    "copy of {}.{}, kept equal by triggers",
                    self.copy.spec.parent, c.name
                ))
            ));
        }
        sql.push('\n');
        sql
    }

    fn functions(&self) -> Result<String> {
        let setting = format!("SET {} = 'on'", self.names.setting());
        let mut sql = String::from("-- parent -> every child row of it (the fan-out).\n");
        sql.push_str(&trigger_function(
            &self.function(false, "fan_out"),
            &self.search_path,
            Some(&setting),
            "",
            &format!(
                "    UPDATE {child} AS c\n    SET {set}\n    WHERE {join}\n      AND {distinct};\n    RETURN NULL;\n",
                child = self.child,
                set = self.assignments("NEW", "        "),
                join = self.child_join_new(),
                distinct = self.distinct("c", "NEW"),
            ),
            self.resumable,
        )?);
        sql.push('\n');
        if self.both() {
            sql.push_str(
                "-- child -> parent; the parent's fan-out then reaches the other child rows. Only the\n\
                 -- columns this update changed are pushed: a copy not backfilled yet (the triggers exist\n\
                 -- before the backfill) must not write its stale other columns over the parent's.\n",
            );
            sql.push_str(&trigger_function(
                &self.function(true, "to_parent"),
                &self.search_path,
                None,
                "",
                &format!(
                    "    UPDATE {parent} AS p\n    SET {set}\n    WHERE {join}\n      AND {differs};\n    RETURN NULL;\n",
                    parent = self.parent,
                    set = self.changed_assignments(),
                    join = self.parent_join_new(),
                    differs = self.changed_and_different(),
                ),
                self.resumable,
            )?);
        } else {
            sql.push_str("-- A direct edit of a copy is refused; the fan-out's own writes pass.\n");
            let message = format!(
                "{} of {} are copies of {} (sync spec {}, direction parent_to_child)",
                self.columns.join(", "),
                self.copy.spec.child,
                self.copy.spec.parent,
                self.names.spec
            );
            let hint = format!(
                "update {} instead; its copies follow it",
                self.copy.spec.parent
            );
            sql.push_str(&trigger_function(
                &self.function(true, "refuse_child_edit"),
                &self.search_path,
                None,
                "",
                &format!(
                    "    RAISE EXCEPTION USING\n        ERRCODE = 'restrict_violation',\n        MESSAGE = {},\n        HINT = {};\n",
                    quote_literal(&message),
                    quote_literal(&hint)
                ),
                self.resumable,
            )?);
        }
        sql.push('\n');
        sql.push_str(
            "-- A new (or re-pointed) child row starts from the parent's current values, read FOR SHARE\n\
             -- (see above). Without a parent (a NULL key) the row keeps the values it was given.\n",
        );
        sql.push_str(&trigger_function(
            &self.function(true, "start_from_parent"),
            &self.search_path,
            None,
            "DECLARE\n    parent_values record;\n",
            &format!(
                "    IF TG_OP = 'UPDATE' AND {new_key} IS NOT DISTINCT FROM {old_key} THEN\n        RETURN NEW;\n    END IF;\n    SELECT {cols}\n    INTO parent_values\n    FROM {parent} AS p\n    WHERE {join}\n    FOR SHARE;\n    IF FOUND THEN\n{assign}    END IF;\n    RETURN NEW;\n",
                new_key = tuple("NEW", &self.child_key),
                old_key = tuple("OLD", &self.child_key),
                cols = tuple("p", &self.columns).trim_matches(['(', ')']),
                parent = self.parent,
                join = self.parent_join_new(),
                assign = self
                    .columns
                    .iter()
                    .map(|c| format!(
                        "        NEW.{q} := parent_values.{q};\n",
                        q = quote_ident(c)
                    ))
                    .collect::<String>(),
            ),
            self.resumable,
        )?);
        sql.push('\n');
        Ok(sql)
    }

    /// `c."fk" = NEW."pk" AND …`.
    fn child_join_new(&self) -> String {
        self.join("c", "NEW")
    }

    /// `p."pk" = NEW."fk" AND …`.
    fn parent_join_new(&self) -> String {
        self.copy
            .key_pairs
            .iter()
            .map(|(c, p)| format!("p.{} = NEW.{}", quote_ident(p), quote_ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    fn triggers(&self) -> String {
        let create = create_trigger(self.resumable);
        let changed = self.distinct("OLD", "NEW");
        let mut sql = format!(
            "-- AFTER UPDATE, not UPDATE OF the columns: PostgreSQL fires an UPDATE OF trigger only when\n\
             -- the statement names a column, not when another trigger (a BEFORE trigger of another\n\
             -- feature, a column sync) changes it; the WHEN clause keeps to real changes.\n\
             {create} {name}\n    AFTER UPDATE ON {parent}\n    FOR EACH ROW\n    WHEN ({changed})\n    EXECUTE FUNCTION {function}();\n\n",
            name = quote_ident(&self.names.object("fan_out")),
            parent = self.parent,
            function = self.function(false, "fan_out"),
        );
        if self.both() {
            sql.push_str(&format!(
                "{create} {name}\n    AFTER UPDATE ON {child}\n    FOR EACH ROW\n    WHEN ({changed}\n          AND {not_ours})\n    EXECUTE FUNCTION {function}();\n\n",
                name = quote_ident(&self.names.object("to_parent")),
                child = self.child,
                not_ours = self.names.not_ours(),
                function = self.function(true, "to_parent"),
            ));
        } else {
            sql.push_str(&format!(
                "-- Re-pointing a row (its key changes) is not an edit of its copies: they are then set\n\
                 -- from the new parent.\n\
                 {create} {name}\n    BEFORE UPDATE ON {child}\n    FOR EACH ROW\n    WHEN ({changed}\n          AND {old_key} IS NOT DISTINCT FROM {new_key}\n          AND {not_ours})\n    EXECUTE FUNCTION {function}();\n\n",
                name = quote_ident(&self.names.object("refuse_child_edit")),
                child = self.child,
                old_key = tuple("OLD", &self.child_key),
                new_key = tuple("NEW", &self.child_key),
                not_ours = self.names.not_ours(),
                function = self.function(true, "refuse_child_edit"),
            ));
        }
        sql.push_str(&format!(
            "{create} {name}\n    BEFORE INSERT OR UPDATE OF {key} ON {child}\n    FOR EACH ROW\n    EXECUTE FUNCTION {function}();\n\n",
            name = quote_ident(&self.names.object("start_from_parent")),
            key = list(&self.child_key),
            child = self.child,
            function = self.function(true, "start_from_parent"),
        ));
        sql
    }

    /// The objects this migration makes, as (kind, trigger table or None, role) in creation
    /// order.
    fn objects(&self) -> Vec<(bool, &'static str)> {
        let second = if self.both() {
            "to_parent"
        } else {
            "refuse_child_edit"
        };
        vec![
            (false, "fan_out"),
            (true, second),
            (true, "start_from_parent"),
        ]
    }

    fn comments(&self) -> String {
        let mut sql = String::new();
        for (on_child, role) in self.objects() {
            let table = if on_child { &self.child } else { &self.parent };
            let what = match role {
                "fan_out" => "copies the parent's columns into its child rows",
                "to_parent" => "writes a child's copies back to its parent",
                "refuse_child_edit" => "refuses a direct edit of a copy",
                _ => "gives a new or re-pointed child row its parent's values",
            };
            sql.push_str(&format!(
                "COMMENT ON FUNCTION {}() IS {};\n",
                self.function(on_child, role),
                self.names.comment(what)
            ));
            sql.push_str(&format!(
                "COMMENT ON TRIGGER {} ON {table} IS {};\n",
                quote_ident(&self.names.object(role)),
                self.names.comment(what)
            ));
        }
        sql.push('\n');
        sql
    }

    /// The whole-table backfill, in the migration's transaction.
    fn backfill_in_transaction(&self) -> String {
        format!(
            "-- Backfill: every copy takes its parent's values. The triggers above exist already, and\n\
             -- CREATE TRIGGER holds both tables against writes until this migration commits, so no\n\
             -- write races the backfill (a parent update committed before it is read by it). The\n\
             -- guard setting, on for this transaction only, keeps these updates from being echoed or\n\
             -- refused as child edits.\n\
             SELECT pg_catalog.set_config({setting}, 'on', true);\n\
             UPDATE {child} AS c\nSET {set}\nFROM {parent} AS p\nWHERE {join}\n  AND {distinct};\n\
             SELECT pg_catalog.set_config({setting}, '', true);\n",
            setting = quote_literal(&self.names.setting()),
            child = self.child,
            set = self.assignments("p", "    "),
            parent = self.parent,
            join = self.join("c", "p"),
            distinct = self.distinct("c", "p"),
        )
    }

    /// The backfill in committed batches: resumable (it only touches rows that still differ),
    /// each batch short, a batch that loses a lock race run again.
    fn backfill_in_batches(&self, rows: u32) -> Result<String> {
        let update = |condition: &str, limit: Option<u32>| {
            format!(
                "WITH batch AS (\n    SELECT c.tableoid AS pgstrata_row_table, c.ctid AS pgstrata_row_id, {pcols}\n    FROM {child} AS c\n    JOIN {parent} AS p ON {join}\n    WHERE {condition}{distinct}{limit}\n    FOR SHARE OF p\n)\nUPDATE {child} AS c\nSET {set}\nFROM batch AS p\nWHERE c.tableoid = p.pgstrata_row_table\n  AND c.ctid = p.pgstrata_row_id\n  AND {distinct};",
                condition = and_then(condition, "      "),
                pcols = tuple("p", &self.columns).trim_matches(['(', ')']),
                child = self.child,
                parent = self.parent,
                join = self.join("c", "p"),
                distinct = self.distinct("c", "p"),
                limit = limit
                    .map(|n| format!("\n    LIMIT {n}"))
                    .unwrap_or_default(),
                set = self.assignments("p", "    "),
            )
        };
        Ok(format!(
            "-- Backfill in batches of about {rows} rows, each committed (DO may COMMIT outside a\n\
             -- transaction block), so no lock is held for long. Only rows whose copies still differ are\n\
             -- written, so a rerun after a crash redoes nothing that was committed. Parent rows are read\n\
             -- FOR SHARE, so a parent update either waits for the batch or is read by it; rows written\n\
             -- meanwhile are kept in sync by the triggers. The guard setting (on for each batch's\n\
             -- transaction only) marks these writes as the toolkit's own.\n{}",
            batched_backfill(&self.copy.spec.child, &self.names.setting(), rows, update)?
        ))
    }

    fn rollback(&self) -> String {
        let mut sql = format!(
            "-- Undoes the sync spec {name}: drops exactly what its migration made, triggers first.\n",
            name = self.names.spec
        );
        let added: Vec<&str> = self
            .copy
            .columns
            .iter()
            .filter(|c| !c.child_has)
            .map(|c| c.name.as_str())
            .collect();
        if added.is_empty() {
            sql.push_str("-- The child's columns were there before it and stay.\n");
        } else {
            sql.push_str(
                "-- Nothing is lost with the columns it added: their values live on in the parent.\n",
            );
        }
        for (on_child, role) in self.objects().into_iter().rev() {
            let table = if on_child { &self.child } else { &self.parent };
            sql.push_str(&format!(
                "DROP TRIGGER {} ON {table};\n",
                quote_ident(&self.names.object(role))
            ));
        }
        for (on_child, role) in self.objects().into_iter().rev() {
            sql.push_str(&format!(
                "DROP FUNCTION {}();\n",
                self.function(on_child, role)
            ));
        }
        if !added.is_empty() {
            let drops: Vec<String> = added
                .iter()
                .map(|c| format!("    DROP COLUMN {}", quote_ident(c)))
                .collect();
            sql.push_str(&format!(
                "ALTER TABLE {}\n{};\n",
                self.child,
                drops.join(",\n")
            ));
        }
        sql
    }
}
