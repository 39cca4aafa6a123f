CREATE TABLE `log_checkpoints` (
	`size` integer PRIMARY KEY NOT NULL,
	`root` text NOT NULL,
	`note` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `log_cosignatures` (
	`size` integer NOT NULL,
	`node_id` text NOT NULL,
	`line` text NOT NULL,
	`timestamp` integer NOT NULL,
	PRIMARY KEY(`size`, `node_id`)
);
--> statement-breakpoint
CREATE TABLE `log_entries` (
	`idx` integer PRIMARY KEY NOT NULL,
	`key` text NOT NULL,
	`type` text NOT NULL,
	`entry` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `log_entries_key_unique` ON `log_entries` (`key`);--> statement-breakpoint
CREATE INDEX `log_entries_created` ON `log_entries` (`created_at`);--> statement-breakpoint
CREATE TABLE `log_nodes` (
	`level` integer NOT NULL,
	`idx` integer NOT NULL,
	`hash` text NOT NULL,
	PRIMARY KEY(`level`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `log_pending` (
	`key` text PRIMARY KEY NOT NULL,
	`entry` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `witnesses` (
	`node_id` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`updated_at` integer NOT NULL
);
