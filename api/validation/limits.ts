// How much one validation may say: an answer lists at most this many problems and counts the rest ("and N more"),
// so an answer never outgrows its request.
export const MAX_LISTED_ERRORS = 100;
