// Alarm panels and panic buttons on serial lines: Contact ID, button line profiles, and the receiver that journals before it acknowledges.
export * from "./contact-id";
export * from "./event-codes";
export * from "./line-framer";
export * from "./line-profile";
export * from "./receiver";
