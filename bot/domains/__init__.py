"""Custom domains: DNS checks, Route53 records, certificates and the ELB lookup (AWS confined here)."""
