ALTER TABLE "consultation_events" DROP CONSTRAINT "consultation_events_type_check";--> statement-breakpoint
ALTER TABLE "consultation_events" ADD COLUMN "retracts_id" bigint;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "doctor_left_reason" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "patient_left_reason" text;--> statement-breakpoint
ALTER TABLE "hms_peer_connections" ADD COLUMN "joined_inferred" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "hms_peer_connections" ADD COLUMN "left_inferred" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "consultation_events_retracts_idx" ON "consultation_events" USING btree ("retracts_id") WHERE "consultation_events"."retracts_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD CONSTRAINT "consultation_events_type_check" CHECK ("consultation_events"."type" IN ('PARTICIPANT_JOINED', 'PARTICIPANT_LEFT', 'STATUS_CHANGED', 'PRESCRIPTION_CREATED', 'EVENT_RETRACTED'));--> statement-breakpoint
UPDATE "hms_peer_connections" SET "joined_inferred" = true WHERE "source" = 'reconcile';--> statement-breakpoint
UPDATE "hms_peer_connections" SET "left_inferred" = true WHERE "left_reason" = 'not in the room (reconciled)';
