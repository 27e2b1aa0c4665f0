ALTER TABLE "consultation_events" DROP CONSTRAINT "consultation_events_type_check";--> statement-breakpoint
ALTER TABLE "consultation_closures" ADD COLUMN "cause" text;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD COLUMN "leave_cause" text;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD COLUMN "leave_detail" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "doctor_left_cause" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "doctor_left_detail" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "patient_left_cause" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "patient_left_detail" text;--> statement-breakpoint
ALTER TABLE "hms_sessions" ADD COLUMN "room_end_reason" text;--> statement-breakpoint
ALTER TABLE "hms_sessions" ADD COLUMN "room_ended_by" text;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD CONSTRAINT "consultation_events_type_check" CHECK ("consultation_events"."type" IN ('PARTICIPANT_JOINED', 'PARTICIPANT_LEFT', 'PARTICIPANT_OFFLINE', 'STATUS_CHANGED', 'PRESCRIPTION_CREATED', 'EVENT_RETRACTED', 'PARTICIPANT_JOIN_FAILED'));