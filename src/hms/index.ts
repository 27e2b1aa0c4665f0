export { HmsClient } from "./client.js";
export type {
  CreateRoomInput,
  HmsActivePeer,
  HmsCall,
  HmsClientOptions,
  HmsRoom,
  RemovePeersInput,
} from "./client.js";
export type {
  DeliveryStatus,
  ReplayProgress,
  ReplayRequest,
  ReplayStarted,
  ReplayState,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookDeliveryQuery,
} from "./webhook-log.js";
export { REPLAYABLE_EVENTS } from "./webhook-log.js";
export { HmsApiError, HmsNotConfiguredError } from "./errors.js";
export { DEFAULT_MANAGEMENT_TOKEN_TTL_SECONDS, mintAppToken, mintManagementToken } from "./tokens.js";
export type { AppTokenInput, HmsCredentials, ManagementTokenInput, MintedToken } from "./tokens.js";
