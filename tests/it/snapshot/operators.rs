//! Operators, operator families and classes, conversions and text search objects (issue 13:
//! none was read): one property changed at a time on the every-kind fixture
//! (`operators_and_text_search.sql`), as `mutations` does for the other kinds, and no-op
//! rebuilds that must change nothing.

use super::mutations::{assert_changes, assert_unchanged, changes, unchanged};

const HASHED: &str = "DROP OPERATOR app.%% (integer, integer); CREATE OPERATOR app.%% (LEFTARG = integer, RIGHTARG = integer, FUNCTION = app.abs_eq";

// Operators.
changes! {
    operator_function: "DROP OPERATOR app.~~- (NONE, integer); CREATE OPERATOR app.~~- (RIGHTARG = integer, FUNCTION = int4abs)" => ["~ operator app.~~-(NONE, integer)"];
    operator_hashes_dropped: &format!("{HASHED})") => ["~ operator app.%%(integer, integer)"];
    operator_merges: &format!("{HASHED}, HASHES, MERGES)") => ["~ operator app.%%(integer, integer)"];
    operator_commutator: &format!("{HASHED}, HASHES, COMMUTATOR = OPERATOR(app.%%))") => ["~ operator app.%%(integer, integer)"];
    // A negator not defined yet: a shell, which the snapshot leaves out (so does pg_dump).
    operator_negator: &format!("{HASHED}, HASHES, NEGATOR = OPERATOR(app.!%%))") => ["~ operator app.%%(integer, integer)"];
    operator_restrict: "ALTER OPERATOR app.=== (integer, integer) SET (RESTRICT = scalarltsel)" => ["~ operator app.===(integer, integer)"];
    operator_join_dropped: "ALTER OPERATOR app.=== (integer, integer) SET (JOIN = NONE)" => ["~ operator app.===(integer, integer)"];
    operator_added: "CREATE OPERATOR app.## (LEFTARG = integer, RIGHTARG = integer, FUNCTION = app.abs_lt)" => ["+ operator app.##(integer, integer)"];
    operator_dropped: "DROP OPERATOR app.~~- (NONE, integer)" => ["- operator app.~~-(NONE, integer)"];
    comment_on_operator: "COMMENT ON OPERATOR app.=== (integer, integer) IS NULL" => ["~ operator app.===(integer, integer)"];
}

// Operator families and classes.
changes! {
    family_loose_member_dropped: "ALTER OPERATOR FAMILY app.abs_ops USING btree DROP FUNCTION 1 (integer, bigint)" => ["~ operator family app.abs_ops USING btree"];
    family_loose_operator_dropped: "ALTER OPERATOR FAMILY app.abs_ops USING btree DROP OPERATOR 1 (integer, bigint)" => ["~ operator family app.abs_ops USING btree"];
    family_loose_member_added: "ALTER OPERATOR FAMILY app.abs_ops USING btree ADD FUNCTION 4 (integer, integer) btequalimage(oid)" => ["~ operator family app.abs_ops USING btree"];
    family_added: "CREATE OPERATOR FAMILY app.spare_ops USING hash" => ["+ operator family app.spare_ops USING hash"];
    comment_on_family: "COMMENT ON OPERATOR FAMILY app.abs_ops USING btree IS NULL" => ["~ operator family app.abs_ops USING btree"];
    class_not_default: "DROP OPERATOR CLASS app.mood_hash_ops USING hash; CREATE OPERATOR CLASS app.mood_hash_ops FOR TYPE app.mood USING hash FAMILY app.mood_hash_ops AS STORAGE app.mood" => ["~ operator class app.mood_hash_ops USING hash"];
    class_support_function: "DROP INDEX app.magnitudes_abs; DROP OPERATOR CLASS app.abs_int4_ops USING btree; CREATE OPERATOR CLASS app.abs_int4_ops FOR TYPE integer USING btree FAMILY app.abs_ops AS OPERATOR 1 app.<<<, OPERATOR 2 app.<<<=, OPERATOR 3 app.===, OPERATOR 4 app.>>>=, OPERATOR 5 app.>>>, FUNCTION 1 btint4cmp(integer, integer); COMMENT ON OPERATOR CLASS app.abs_int4_ops USING btree IS 'by absolute value'; CREATE INDEX magnitudes_abs ON app.magnitudes (value app.abs_int4_ops)" => ["~ operator class app.abs_int4_ops USING btree"];
    class_storage: "DROP OPERATOR CLASS app.point_distance_ops USING gist; CREATE OPERATOR CLASS app.point_distance_ops FOR TYPE point USING gist FAMILY app.point_distance_ops AS FUNCTION 1 gist_point_consistent(internal, point, smallint, oid, internal), FUNCTION 2 gist_box_union(internal, internal), FUNCTION 5 gist_box_penalty(internal, internal, internal), FUNCTION 6 gist_box_picksplit(internal, internal), FUNCTION 7 gist_box_same(box, box, internal)" => ["~ operator class app.point_distance_ops USING gist"];
    class_added: "CREATE OPERATOR CLASS app.int4_plain_ops FOR TYPE integer USING hash AS OPERATOR 1 = (integer, integer), FUNCTION 1 hashint4(integer)" => ["+ operator family app.int4_plain_ops USING hash", "+ operator class app.int4_plain_ops USING hash"];
    comment_on_class: "COMMENT ON OPERATOR CLASS app.abs_int4_ops USING btree IS 'x'" => ["~ operator class app.abs_int4_ops USING btree"];
}

// Conversions.
changes! {
    conversion_made_default: "DROP CONVERSION app.utf8_to_latin1; CREATE DEFAULT CONVERSION app.utf8_to_latin1 FOR 'UTF8' TO 'LATIN1' FROM utf8_to_iso8859_1" => ["~ conversion app.utf8_to_latin1"];
    conversion_target: "DROP CONVERSION app.utf8_to_latin1; CREATE CONVERSION app.utf8_to_latin1 FOR 'UTF8' TO 'LATIN2' FROM utf8_to_iso8859" => ["~ conversion app.utf8_to_latin1"];
    conversion_dropped: "DROP CONVERSION app.utf8_to_latin1" => ["- conversion app.utf8_to_latin1"];
    comment_on_conversion: "COMMENT ON CONVERSION app.latin1_to_utf8 IS NULL" => ["~ conversion app.latin1_to_utf8"];
}

// Text search.
changes! {
    dictionary_option: "ALTER TEXT SEARCH DICTIONARY app.plain_english (ACCEPT = true)" => ["~ text search dictionary app.plain_english"];
    dictionary_option_removed: "ALTER TEXT SEARCH DICTIONARY app.plain_english (ACCEPT)" => ["~ text search dictionary app.plain_english"];
    dictionary_template: "ALTER TEXT SEARCH CONFIGURATION app.english_plain DROP MAPPING FOR asciiword, word; DROP TEXT SEARCH DICTIONARY app.plain_english; CREATE TEXT SEARCH DICTIONARY app.plain_english (TEMPLATE = simple, ACCEPT = false, STOPWORDS = english); COMMENT ON TEXT SEARCH DICTIONARY app.plain_english IS 'stop words out'; ALTER TEXT SEARCH CONFIGURATION app.english_plain ADD MAPPING FOR asciiword, word WITH app.plain_english, english_stem" => ["~ text search dictionary app.plain_english"];
    comment_on_dictionary: "COMMENT ON TEXT SEARCH DICTIONARY app.plain_english IS NULL" => ["~ text search dictionary app.plain_english"];
    configuration_mapping_added: "ALTER TEXT SEARCH CONFIGURATION app.english_plain ADD MAPPING FOR email WITH simple" => ["~ text search configuration app.english_plain"];
    configuration_mapping_dictionary: "ALTER TEXT SEARCH CONFIGURATION app.english_plain ALTER MAPPING FOR asciiword WITH english_stem" => ["~ text search configuration app.english_plain"];
    configuration_mapping_order: "ALTER TEXT SEARCH CONFIGURATION app.english_plain ALTER MAPPING FOR word WITH english_stem, app.plain_english" => ["~ text search configuration app.english_plain"];
    configuration_mapping_dropped: "ALTER TEXT SEARCH CONFIGURATION app.english_plain DROP MAPPING FOR int" => ["~ text search configuration app.english_plain"];
    configuration_parser: "DROP TEXT SEARCH CONFIGURATION app.english_plain; CREATE TEXT SEARCH CONFIGURATION app.english_plain (PARSER = pg_catalog.default); ALTER TEXT SEARCH CONFIGURATION app.english_plain ADD MAPPING FOR asciiword, word WITH app.plain_english, english_stem; ALTER TEXT SEARCH CONFIGURATION app.english_plain ADD MAPPING FOR int WITH simple; COMMENT ON TEXT SEARCH CONFIGURATION app.english_plain IS 'plain English'" => ["~ text search configuration app.english_plain"];
    configuration_added: "CREATE TEXT SEARCH CONFIGURATION app.copied (COPY = app.english_plain)" => ["+ text search configuration app.copied"];
    template_init: "DROP TEXT SEARCH TEMPLATE app.bare; CREATE TEXT SEARCH TEMPLATE app.bare (INIT = dsimple_init, LEXIZE = dsimple_lexize); COMMENT ON TEXT SEARCH TEMPLATE app.bare IS 'no init'" => ["~ text search template app.bare"];
    comment_on_template: "COMMENT ON TEXT SEARCH TEMPLATE app.bare IS NULL" => ["~ text search template app.bare"];
    parser_added: "CREATE TEXT SEARCH PARSER app.no_headline (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype)" => ["+ text search parser app.no_headline"];
    comment_on_parser: "COMMENT ON TEXT SEARCH PARSER app.words IS NULL" => ["~ text search parser app.words"];
}

// No-op rebuilds: other creation orders, the same objects made again.
unchanged! {
    operator_rebuilt: "DROP OPERATOR app.~~- (NONE, integer); CREATE OPERATOR app.~~- (RIGHTARG = integer, FUNCTION = app.negate)";
    family_members_added_in_another_order: "ALTER OPERATOR FAMILY app.abs_ops USING btree DROP OPERATOR 1 (integer, bigint), FUNCTION 1 (integer, bigint); ALTER OPERATOR FAMILY app.abs_ops USING btree ADD FUNCTION 1 (integer, bigint) app.abs_cmp_big(integer, bigint); ALTER OPERATOR FAMILY app.abs_ops USING btree ADD OPERATOR 1 app.<<< (integer, bigint)";
    conversion_rebuilt: "DROP CONVERSION app.utf8_to_latin1; CREATE CONVERSION app.utf8_to_latin1 FOR 'UTF8' TO 'LATIN1' FROM utf8_to_iso8859_1";
    // ALTER moves the option it sets to the end of the stored list.
    dictionary_options_reordered: "ALTER TEXT SEARCH DICTIONARY app.plain_english (ACCEPT = false)";
    mapping_added_again_in_another_order: "ALTER TEXT SEARCH CONFIGURATION app.english_plain DROP MAPPING FOR asciiword; ALTER TEXT SEARCH CONFIGURATION app.english_plain DROP MAPPING FOR int; ALTER TEXT SEARCH CONFIGURATION app.english_plain ADD MAPPING FOR int WITH simple; ALTER TEXT SEARCH CONFIGURATION app.english_plain ADD MAPPING FOR asciiword WITH app.plain_english, english_stem";
}
