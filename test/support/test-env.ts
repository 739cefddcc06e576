/** Keeps test output readable: no Powertools logs (POWERTOOLS_LOG_LEVEL=DEBUG npm test to see them), no EMF lines. */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// Lambdas run Node 22; the SDK's notice about local Node 20 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
