ALTER TABLE "consultation_events" DROP CONSTRAINT "consultation_events_type_check";--> statement-breakpoint
ALTER TABLE "consultation_events" ADD COLUMN "left_reason" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "doctor_reconnecting_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "patient_reconnecting_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD CONSTRAINT "consultation_events_type_check" CHECK ("consultation_events"."type" IN ('PARTICIPANT_JOINED', 'PARTICIPANT_LEFT', 'PARTICIPANT_OFFLINE', 'STATUS_CHANGED', 'PRESCRIPTION_CREATED', 'EVENT_RETRACTED'));