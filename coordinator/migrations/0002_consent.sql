CREATE TABLE `consents` (
	`node_id` text PRIMARY KEY NOT NULL,
	`signed` text NOT NULL,
	`issued_at` integer NOT NULL,
	`revoked` integer NOT NULL,
	`updated_at` integer NOT NULL
);
