-- Seeds 003 + 001: images saved concurrently for one content creation request got lost, because
-- every save read generated_output, appended its URL to a scene's imageUrls and wrote the whole
-- document back; two overlapping saves both wrote, the later one without the earlier URL, and
-- no error told anyone (seed 003). Fix (seed 001): one row per image in generated_images, so a
-- save is a single INSERT that cannot overwrite another; the unique key makes a repeated save of
-- the same slot an upsert instead of a duplicate.
--
-- Every URL already in a scene's imageUrls array moves into rows, and the array is removed from
-- the document so the rows are the only copy (a stale copy would resurrect URLs that were
-- regenerated away). The scene index is the scene's numeric "index" field, else its 1-based
-- position in the scenes array (the seed's `scene.index ?? idx + 1`); image_index is the URL's
-- 0-based position in imageUrls. The rollback folds the rows back into the document.

CREATE TABLE generated_images (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    content_creation_request_id uuid NOT NULL,
    scene_index integer NOT NULL,
    image_url text NOT NULL,
    image_index integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT generated_images_pkey PRIMARY KEY (id),
    CONSTRAINT generated_images_content_creation_request_id_fkey
        FOREIGN KEY (content_creation_request_id)
        REFERENCES content_creation_requests (id) ON DELETE CASCADE,
    CONSTRAINT generated_images_request_scene_image_key
        UNIQUE (content_creation_request_id, scene_index, image_index),
    CONSTRAINT generated_images_image_index_check CHECK (image_index >= 0)
);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON generated_images
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Refuse, naming the requests, what cannot move without losing or inventing data: two scenes
-- with the same index (their rows could not be told apart), and imageUrls entries that are
-- neither a string nor null (not URLs; null entries are dropped). The CASEs hand
-- jsonb_array_elements only arrays: it raises on anything else, whatever the plan. Messages
-- name the first ten requests and count the rest.
DO $$
DECLARE
    bad text;
    total bigint;
BEGIN
    SELECT string_agg(d.id::text, ', ' ORDER BY d.id) FILTER (WHERE d.n <= 10), count(*)
    INTO bad, total
    FROM (SELECT DISTINCT r.id, dense_rank() OVER (ORDER BY r.id) AS n
          FROM content_creation_requests AS r
          CROSS JOIN LATERAL jsonb_array_elements(
              CASE WHEN jsonb_typeof(r.generated_output -> 'scenes') = 'array'
                   THEN r.generated_output -> 'scenes' END) WITH ORDINALITY AS s(scene, pos)
          GROUP BY r.id,
                   CASE WHEN jsonb_typeof(s.scene -> 'index') = 'number'
                        THEN (s.scene ->> 'index')::integer ELSE s.pos::integer END
          HAVING count(*) > 1) AS d;
    IF total > 0 THEN
        RAISE EXCEPTION 'content creation requests % have two scenes with the same index',
            bad || CASE WHEN total > 10 THEN format(' (and %s more)', total - 10) ELSE '' END
            USING HINT = 'give each scene a distinct "index", then migrate again';
    END IF;

    SELECT string_agg(d.id::text, ', ' ORDER BY d.id) FILTER (WHERE d.n <= 10), count(*)
    INTO bad, total
    FROM (SELECT DISTINCT r.id, dense_rank() OVER (ORDER BY r.id) AS n
          FROM content_creation_requests AS r
          CROSS JOIN LATERAL jsonb_array_elements(
              CASE WHEN jsonb_typeof(r.generated_output -> 'scenes') = 'array'
                   THEN r.generated_output -> 'scenes' END) AS s(scene)
          CROSS JOIN LATERAL jsonb_array_elements(
              CASE WHEN jsonb_typeof(s.scene -> 'imageUrls') = 'array'
                   THEN s.scene -> 'imageUrls' END) AS u(url)
          WHERE jsonb_typeof(u.url) NOT IN ('string', 'null')) AS d;
    IF total > 0 THEN
        RAISE EXCEPTION 'content creation requests % have imageUrls entries that are not strings',
            bad || CASE WHEN total > 10 THEN format(' (and %s more)', total - 10) ELSE '' END
            USING HINT = 'fix or remove those entries, then migrate again';
    END IF;
END;
$$;

INSERT INTO generated_images (content_creation_request_id, scene_index, image_url, image_index,
                              created_at, updated_at)
SELECT r.id,
       CASE WHEN jsonb_typeof(s.scene -> 'index') = 'number'
            THEN (s.scene ->> 'index')::integer ELSE s.pos::integer END,
       u.url #>> '{}',
       (u.pos - 1)::integer,
       r.updated_at,
       r.updated_at
FROM content_creation_requests AS r
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(r.generated_output -> 'scenes') = 'array'
         THEN r.generated_output -> 'scenes' END) WITH ORDINALITY AS s(scene, pos)
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(s.scene -> 'imageUrls') = 'array'
         THEN s.scene -> 'imageUrls' END) WITH ORDINALITY AS u(url, pos)
WHERE jsonb_typeof(u.url) = 'string';

-- The rows are now the only copy of the URLs. Moving data is not an edit: updated_at stays.
ALTER TABLE content_creation_requests DISABLE TRIGGER set_updated_at;
UPDATE content_creation_requests AS r
SET generated_output = jsonb_set(
        r.generated_output, '{scenes}',
        (SELECT jsonb_agg(CASE WHEN jsonb_typeof(s.scene -> 'imageUrls') = 'array'
                               THEN s.scene - 'imageUrls' ELSE s.scene END
                          ORDER BY s.pos)
         FROM jsonb_array_elements(r.generated_output -> 'scenes') WITH ORDINALITY AS s(scene, pos)))
WHERE jsonb_typeof(r.generated_output -> 'scenes') = 'array'
  AND jsonb_path_exists(r.generated_output, '$.scenes[*] ? (@.imageUrls.type() == "array")');
ALTER TABLE content_creation_requests ENABLE TRIGGER set_updated_at;
