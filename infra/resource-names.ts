/**
 * Physical names of a tenant's resources. Fixed names let the operator CLIs (`npm run x`,
 * `npm run dlq`) find a tenant's resources from its name alone.
 */
export const resourceNames = (tenant: string) => {
  const prefix = `4biz-dm-${tenant}`;
  return {
    stack: `FourBizTwitterDm-${tenant}`,
    secret: `4biz-twitter-dm/${tenant}`,
    /** Webhook ingestion: the X consumer secret alone, what crc and webhook may read. */
    consumerSecret: `4biz-twitter-dm/${tenant}/x-consumer-secret`,
    table: `${prefix}-conversations`,
    inboundQueue: `${prefix}-inbound.fifo`,
    inboundDlq: `${prefix}-inbound-dlq.fifo`,
    outboundQueue: `${prefix}-outbound.fifo`,
    outboundDlq: `${prefix}-outbound-dlq.fifo`,
    alarmTopic: `${prefix}-alarms`,
    /** Dashboards are global per account: the region keeps the same tenant in two regions apart. */
    dashboard: (region: string) => `${prefix}-${region}`,
    httpApi: `${prefix}-webhook`,
    /**
     * Under /aws/vendedlogs/ so that API Gateway's log delivery does not add one entry per stage
     * to the account's shared CloudWatch Logs resource policy (5,120 characters in all).
     */
    accessLogGroupPrefix: `/aws/vendedlogs/4biz-twitter-dm/${tenant}/webhook-api`,
  };
};
