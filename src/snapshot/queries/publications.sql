-- Publications, which belong to the whole database: kept unless every table and schema they
-- list lies outside the kept schemas ($1) (one that lists nothing, FOR ALL TABLES or empty,
-- is always kept). Their members come from publication_members.sql.
SELECT p.oid, p.pubname AS name, p.puballtables AS all_tables, p.pubinsert AS insert,
    p.pubupdate AS update, p.pubdelete AS delete, p.pubtruncate AS truncate,
    p.pubviaroot AS via_root
FROM pg_publication p
WHERE (NOT EXISTS (SELECT FROM pg_publication_rel pr WHERE pr.prpubid = p.oid)
        AND NOT EXISTS (SELECT FROM pg_publication_namespace pn WHERE pn.pnpubid = p.oid))
    OR EXISTS (
        SELECT FROM pg_publication_rel pr JOIN pg_class c ON c.oid = pr.prrelid
        WHERE pr.prpubid = p.oid AND c.relnamespace = ANY($1))
    OR EXISTS (
        SELECT FROM pg_publication_namespace pn
        WHERE pn.pnpubid = p.oid AND pn.pnnspid = ANY($1))
