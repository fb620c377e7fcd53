/**
 * The limits on the size of a pipeline document, counted as it is read (parse.ts); apart, so
 * that the configuration reads them without loading the parser and the validator.
 */

/** Deeper documents are rejected (a pipeline needs 6 levels). */
export const MAX_DEPTH = 64;
/** Entries of one map or sequence: the most jobs a pipeline may be configured to have. */
export const MAX_ENTRIES = 10_000;
/** Values in a whole document, YAML's aliases expanded: 10,000 jobs of a dozen values each, and more. */
export const MAX_NODES = 200_000;
