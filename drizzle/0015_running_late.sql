CREATE TABLE "consultation_delays" (
	"consultation_id" uuid PRIMARY KEY NOT NULL,
	"minutes" integer NOT NULL,
	"announcements" integer DEFAULT 1 NOT NULL,
	"announced_by" uuid,
	"announced_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consultation_delays_minutes_check" CHECK ("consultation_delays"."minutes" BETWEEN 0 AND 120)
);
--> statement-breakpoint
ALTER TABLE "consultation_events" DROP CONSTRAINT "consultation_events_type_check";--> statement-breakpoint
ALTER TABLE "consultation_events" ADD COLUMN "delay_minutes" integer;--> statement-breakpoint
ALTER TABLE "consultation_delays" ADD CONSTRAINT "consultation_delays_consultation_id_video_consultations_id_fk" FOREIGN KEY ("consultation_id") REFERENCES "public"."video_consultations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD CONSTRAINT "consultation_events_type_check" CHECK ("consultation_events"."type" IN ('PARTICIPANT_JOINED', 'PARTICIPANT_LEFT', 'PARTICIPANT_OFFLINE', 'STATUS_CHANGED', 'PRESCRIPTION_CREATED', 'EVENT_RETRACTED', 'PARTICIPANT_JOIN_FAILED', 'NO_SHOW', 'RUNNING_LATE'));