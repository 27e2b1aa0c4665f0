import { signAccessToken } from "../auth/access-token.js";
import type { DemoClinic } from "./demo-clinic.js";

/**
 * What a newcomer sees after `npm start` on the embedded demo: the URL, short-lived bearer
 * tokens for each demo user, and a query to paste. Printed to stdout on purpose (this is the
 * local demo, not a log), and never in production.
 */
export async function demoBanner(url: string, secret: string, demo: DemoClinic): Promise<string> {
  const sign = (userId: string) => signAccessToken(secret, userId, { ttlSeconds: 12 * 3600 });
  const [doctor, patient, admin] = await Promise.all([
    sign(demo.doctorUserId),
    sign(demo.patientUserId),
    sign(demo.adminUserId),
  ]);
  const query = `{ consultation(id: "${demo.consultationId}") { id status appointment { scheduledAt } doctor { fullName } patient { fullName } participants { role fullName online } } }`;
  return [
    "",
    "=== Demo clinic (embedded database, generated secret; valid 12 h) ===",
    `GraphQL:  ${url}/graphql`,
    `Doctor:   Bearer ${doctor}`,
    `Patient:  Bearer ${patient}`,
    `Admin:    Bearer ${admin}`,
    "",
    "Try it:",
    `curl -s ${url}/graphql -H 'content-type: application/json' \\`,
    `  -H 'authorization: Bearer ${doctor}' \\`,
    `  -d '${JSON.stringify({ query })}'`,
    "",
  ].join("\n");
}
