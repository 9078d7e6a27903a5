"""What leaves the bureau: templates, the durable outbox and the SMTP relay."""
