import { Field, ID, ObjectType } from "type-graphql";
import { ParticipantRole } from "./consultation.type.js";

@ObjectType({ simpleResolvers: true, description: "What a client passes to the 100ms SDK to join the consultation's room." })
export class JoinToken {
  @Field(() => String, { description: "100ms auth token: `HMSConfig(authToken: token, userName: …)` in Flutter." })
  token!: string;

  @Field(() => String, { description: "The 100ms room the token admits to." })
  roomId!: string;

  @Field(() => ParticipantRole, { description: "The caller's side; also the 100ms role." })
  role!: ParticipantRole;

  @Field(() => ID, { description: "The caller's user id; the token's 100ms `user_id`." })
  userId!: string;

  @Field(() => Date, { description: "The token is refused after this; call joinConsultation again for a new one." })
  expiresAt!: Date;
}
