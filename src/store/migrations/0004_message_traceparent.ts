/**
 * The W3C traceparent of the publish span, kept with the message so every delivery attempt (a trace
 * of its own, possibly hours later) can link back to it. Written only while tracing is on; NULL otherwise.
 */
export const sql = `
ALTER TABLE messages ADD COLUMN traceparent text;
`;
