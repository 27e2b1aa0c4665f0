import type { ApolloServerPlugin } from "@apollo/server";
import { readsEntry, type Actor } from "../audit/audit.model.js";
import type { GraphQLContext } from "./context.js";

/**
 * One audit record per request, listing every consultation it read (each once, however many
 * fields read it), written asynchronously once the response is on its way.
 */
export function auditReadsPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue: ctx }) {
          const viewer = ctx.auth.viewer;
          if (!viewer || ctx.reads.size === 0) return;
          const actor: Actor = { userId: viewer.userId, role: viewer.role, requestId: ctx.requestId, clientIp: ctx.clientIp };
          ctx.services.audit.enqueue(readsEntry(actor, ctx.reads));
        },
      };
    },
  };
}
