-- The public schema as sorted lines of text, for comparing two databases in the seed tests
-- until pgstrata's snapshot lands: columns in order (position among live columns, type,
-- nullability, default, generation, comment), constraints, indexes, triggers with their
-- enabled state, functions with their comments, views.
SELECT coalesce(string_agg(line, E'\n' ORDER BY line), '')
FROM (
    SELECT format('column %s #%s %s %s %s default %s generated %s comment %s',
                  c.relname || '.' || a.attname,
                  row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
                  a.attname, format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END,
                  pg_get_expr(d.adbin, d.adrelid), a.attgenerated,
                  col_description(c.oid, a.attnum)) AS line
    FROM pg_attribute AS a
    JOIN pg_class AS c ON c.oid = a.attrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p')
      AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('table %s kind %s comment %s', c.relname, c.relkind,
                  obj_description(c.oid, 'pg_class'))
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p', 'S')
    UNION ALL
    SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint AS k
    JOIN pg_class AS c ON c.oid = k.conrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'
    UNION ALL
    SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT format('trigger %s enabled %s', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger AS t
    JOIN pg_class AS c ON c.oid = t.tgrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT t.tgisinternal
    UNION ALL
    SELECT format('function %s comment %s', pg_get_functiondef(p.oid),
                  obj_description(p.oid, 'pg_proc'))
    FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public'
    UNION ALL
    SELECT format('view %s %s', c.relname, pg_get_viewdef(c.oid))
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'v'
) AS outline;
