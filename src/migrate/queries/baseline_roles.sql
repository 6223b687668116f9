-- The roles the privileges of this database's objects name (pg_shdepend records, for each
-- object's access list, every role in it: deptype 'a'). Roles belong to the server, not to a
-- database, so the baseline makes any that a new server lacks before its grants name them.
-- Owners (deptype 'o') are left out, as snapshots leave ownership out; PUBLIC is no role;
-- PostgreSQL's predefined roles (pg_*) exist on every server.
SELECT DISTINCT r.rolname
FROM pg_catalog.pg_shdepend AS d
JOIN pg_catalog.pg_roles AS r ON r.oid = d.refobjid
WHERE d.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND d.refclassid = 'pg_catalog.pg_authid'::regclass
  AND d.deptype = 'a'
  AND r.rolname NOT LIKE 'pg\_%'
ORDER BY 1;
