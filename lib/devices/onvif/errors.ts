// Typed errors of the ONVIF client: the connection state machine decides what to do from their class.
import { SafetyFlowsError } from "../../errors";

/** The camera refused our credentials (SOAP fault ter:NotAuthorized / wsse:FailedAuthentication, or HTTP 401). */
export class OnvifAuthError extends SafetyFlowsError {
  readonly i18nKey = "errors.onvifAuth";
}

/** The camera could not be reached: connection refused or reset, DNS failure, timeout. */
export class OnvifUnreachableError extends SafetyFlowsError {
  readonly i18nKey = "errors.onvifUnreachable";
}

/** The camera answered with a well-formed SOAP fault. */
export class OnvifFaultError extends SafetyFlowsError {
  readonly i18nKey = "errors.onvifFault";
  constructor(
    message: string,
    /** Code and subcodes, local names without prefixes, outermost first, e.g. ["Receiver", "Action", "ActionFailed"]. */
    readonly codes: string[],
    readonly httpStatus: number,
  ) {
    super(message);
  }
}
