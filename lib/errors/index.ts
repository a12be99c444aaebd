// Typed errors shared by lib/ and the nodes: each carries an i18n key so a node can show a translated status.

export abstract class SafetyFlowsError extends Error {
  /** Key into the node's locale catalog (or the common catalog) for status text. */
  abstract readonly i18nKey: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that does not satisfy a message contract (e.g. a SafetyEvent without eventId). */
export class ValidationError extends SafetyFlowsError {
  readonly i18nKey = "errors.validation";
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** A setting (environment variable, node config) that cannot be used as given. */
export class ConfigError extends SafetyFlowsError {
  readonly i18nKey = "errors.config";
  constructor(
    message: string,
    readonly setting: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The store could not be opened or reached. */
export class StoreUnavailableError extends SafetyFlowsError {
  readonly i18nKey = "errors.storeUnavailable";
}

/** Bytes or documents from a device that do not follow its protocol. */
export class DeviceProtocolError extends SafetyFlowsError {
  readonly i18nKey = "errors.deviceProtocol";
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
