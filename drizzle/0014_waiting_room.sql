ALTER TABLE "consultation_live" ADD COLUMN "waiting_side" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "waiting_since" timestamp with time zone;