// Public surface of lib/devices/onvif.
export * from "./camera";
export * from "./discovery";
export * from "./errors";
export * from "./messages";
export * from "./normalize";
export * from "./push-consumer";
export * from "./soap";
export * from "./topics";
