-- The roles the privileges of this database's objects name (pg_shdepend records, for each
-- object's access list, every role in it: deptype 'a'). Roles belong to the server, not to a
-- database, so the baseline makes any that a new server lacks before its grants name them.
-- Owners (deptype 'o') are left out, as snapshots leave ownership out; PUBLIC is no role;
-- PostgreSQL's predefined roles (pg_*) exist on every server. The role of a default-privileges
-- entry (FOR ROLE) and of a user mapping are recorded as their owners, but the baseline names
-- them, unless it is the role taking it (written CURRENT_USER, or without FOR ROLE).
SELECT DISTINCT r.rolname
FROM pg_catalog.pg_shdepend AS d
JOIN pg_catalog.pg_roles AS r ON r.oid = d.refobjid
WHERE d.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND d.refclassid = 'pg_catalog.pg_authid'::regclass
  AND (d.deptype = 'a'
       OR (d.deptype = 'o' AND r.rolname <> current_user
           AND d.classid IN ('pg_catalog.pg_default_acl'::regclass,
                             'pg_catalog.pg_user_mapping'::regclass)))
  AND r.rolname NOT LIKE 'pg\_%'
ORDER BY 1;
