/** Longest target condition we accept; a condition is embedded in bigger hub queries. */
export const MAX_CONDITION_LENGTH = 4096;

/** The hub rejects query expressions longer than 8192 characters (query-twins.md, "Twin query limitations"). */
export const MAX_QUERY_LENGTH = 8192;

/** Deepest nesting of parentheses and NOTs; keeps the recursive parser and evaluator shallow. */
export const MAX_NESTING_DEPTH = 32;
