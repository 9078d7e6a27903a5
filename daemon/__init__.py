"""The process and its edges: config, database, IMAP watcher, pipeline, scheduler, CLI."""
