/** Every table the API knows: the clinic's legacy tables plus the API's own. */
export * from "./legacy.schema.js";
export * from "./api.schema.js";
export * from "./frontdesk.schema.js";
export * from "./audit.schema.js";
export * from "./partner.schema.js";
