ALTER TABLE "consultation_events" DROP CONSTRAINT "consultation_events_type_check";--> statement-breakpoint
ALTER TABLE "consultation_closures" ADD COLUMN "no_show" text;--> statement-breakpoint
ALTER TABLE "consultation_closures" ADD COLUMN "waited_seconds" integer;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD CONSTRAINT "consultation_events_type_check" CHECK ("consultation_events"."type" IN ('PARTICIPANT_JOINED', 'PARTICIPANT_LEFT', 'PARTICIPANT_OFFLINE', 'STATUS_CHANGED', 'PRESCRIPTION_CREATED', 'EVENT_RETRACTED', 'PARTICIPANT_JOIN_FAILED', 'NO_SHOW'));