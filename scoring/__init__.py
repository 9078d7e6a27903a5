"""Pure scoring rules over ledger records: the rule profile, quotas, co-author splits."""
