"""Running osintel as a service: the operations the CLI calls, the enrichment worker and pipeline,
process ownership, recovery of dead runs and leases, sealing and verifying evidence, health and
retention. These modules wire the stages together, and import them only inside functions."""
