/**
 * Structured logs. Nothing that identifies a patient, and no token or secret, may be logged:
 * the redaction below is a safety net, not a licence to pass such values in.
 */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "consultation-api" },
      redact: {
        paths: [
          "authorization",
          "*.authorization",
          "headers.authorization",
          "*.headers.authorization",
          "token",
          "*.token",
          "secret",
          "*.secret",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
