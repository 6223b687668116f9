-- Undoes V3 (seeds 001 + 003): folds every generated_images row back into its scene's
-- imageUrls (ordered by image_index) before dropping the table, so no URL is lost. A scene is
-- matched as V3 matched it: its numeric "index", else its 1-based position. URLs a scene still
-- holds in an imageUrls array are kept after the folded ones. Rows that match no scene would be
-- lost, so the rollback refuses and names them (the first ten, and counts the rest).
DO $$
DECLARE
    orphans text;
    total bigint;
BEGIN
    SELECT string_agg(format('%s scene %s', o.request, o.scene), ', ' ORDER BY o.request, o.scene)
               FILTER (WHERE o.n <= 10),
           count(*)
    INTO orphans, total
    FROM (SELECT DISTINCT g.content_creation_request_id AS request, g.scene_index AS scene,
                 dense_rank() OVER (ORDER BY g.content_creation_request_id, g.scene_index) AS n
          FROM generated_images AS g
          JOIN content_creation_requests AS r ON r.id = g.content_creation_request_id
          WHERE NOT EXISTS (
              SELECT 1
              FROM jsonb_array_elements(
                  CASE WHEN jsonb_typeof(r.generated_output -> 'scenes') = 'array'
                       THEN r.generated_output -> 'scenes' END) WITH ORDINALITY AS s(scene, pos)
              WHERE jsonb_typeof(s.scene) = 'object'
                AND g.scene_index = CASE WHEN jsonb_typeof(s.scene -> 'index') = 'number'
                                         THEN (s.scene ->> 'index')::integer ELSE s.pos::integer END)) AS o;
    IF total > 0 THEN
        RAISE EXCEPTION 'cannot roll back V3: generated_images rows of % match no scene in generated_output and would be lost',
            orphans || CASE WHEN total > 10 THEN format(' (and %s more scenes)', total - 10) ELSE '' END
            USING HINT = 'add the scenes to generated_output or delete those rows, then roll back again';
    END IF;
END;
$$;

-- Moving data is not an edit: updated_at stays.
ALTER TABLE content_creation_requests DISABLE TRIGGER set_updated_at;
UPDATE content_creation_requests AS r
SET generated_output = jsonb_set(
        r.generated_output, '{scenes}',
        (SELECT jsonb_agg(CASE WHEN f.urls IS NULL THEN s.scene
                               ELSE s.scene || jsonb_build_object('imageUrls', f.urls || COALESCE(
                                   (SELECT jsonb_agg(old.url ORDER BY old.pos)
                                    FROM jsonb_array_elements(
                                        CASE WHEN jsonb_typeof(s.scene -> 'imageUrls') = 'array'
                                             THEN s.scene -> 'imageUrls' END)
                                        WITH ORDINALITY AS old(url, pos)
                                    WHERE NOT f.urls @> jsonb_build_array(old.url)),
                                   '[]'::jsonb))
                          END
                          ORDER BY s.pos)
         FROM jsonb_array_elements(r.generated_output -> 'scenes') WITH ORDINALITY AS s(scene, pos)
         LEFT JOIN LATERAL (
             SELECT jsonb_agg(g.image_url ORDER BY g.image_index) AS urls
             FROM generated_images AS g
             WHERE g.content_creation_request_id = r.id
               AND jsonb_typeof(s.scene) = 'object'
               AND g.scene_index = CASE WHEN jsonb_typeof(s.scene -> 'index') = 'number'
                                        THEN (s.scene ->> 'index')::integer
                                        ELSE s.pos::integer END
         ) AS f ON true))
WHERE EXISTS (SELECT 1 FROM generated_images AS g WHERE g.content_creation_request_id = r.id);
ALTER TABLE content_creation_requests ENABLE TRIGGER set_updated_at;

DROP TABLE generated_images;
