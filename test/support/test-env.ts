/** Keeps test output readable: no Powertools logs (POWERTOOLS_LOG_LEVEL=DEBUG npm test to see them), no EMF lines. */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
