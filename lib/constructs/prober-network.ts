import { isIPv6 } from "node:net";
import { CfnOutput, RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { DnsServerAddress } from "../../core/dns/dns-transport.ts";
import { retentionFor } from "./scout-function.ts";

export interface ProberNetworkProps {
  readonly natGateways: number;
  /** Every TCP port the prober's checks and probes connect to. */
  readonly mailPorts: readonly number[];
  readonly awsApiPort: number;
  readonly logRetentionDays: number;
  /**
   * An Elastic IP allocated outside the stack (aws.natEipAllocationId), for the one NAT gateway:
   * its port-25 approval and the customers' allowlists then outlive the stack. Without it the
   * stack allocates the addresses and keeps them when it is deleted.
   */
  readonly existingEipAllocationId?: string;
  /** The posture checks' resolver when the configuration names one (posture.resolver). */
  readonly postureResolver?: DnsServerAddress;
}

/**
 * The prober's network: a VPC over two zones whose NAT gateways have Elastic IPs made here (or the
 * one given), so the prober's public addresses are known before the first check (customers
 * allowlist them; AWS lifts the port-25 restriction for them), a DynamoDB gateway endpoint, and a
 * security group that lets out only mail and HTTPS.
 */
export class ProberNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  readonly securityGroup: ec2.SecurityGroup;
  /** The Elastic IPs the stack allocated: none when the configuration names an existing one. */
  readonly elasticIps: ec2.CfnEIP[];
  /**
   * DynamoDB from the private subnets without the NAT gateway: a gateway endpoint costs nothing,
   * while NAT charges for every GB the prober's result writes would send through it.
   */
  readonly dynamoDbEndpoint: ec2.GatewayVpcEndpoint;

  constructor(scope: Construct, id: string, props: ProberNetworkProps) {
    super(scope, id);
    const existing = props.existingEipAllocationId;
    if (existing !== undefined && props.natGateways !== 1) {
      throw new Error("an existing Elastic IP serves one NAT gateway: natGateways must be 1");
    }
    this.elasticIps =
      existing !== undefined
        ? []
        : Array.from({ length: props.natGateways }, (_, index) => {
            const eip = new ec2.CfnEIP(this, `NatElasticIp${index + 1}`, { domain: "vpc" });
            // Customers allowlist this address: a stack update must not hand out a new one, and
            // deleting the stack leaves it allocated (released only by hand).
            eip.applyRemovalPolicy(RemovalPolicy.RETAIN);
            return eip;
          });
    const allocationIds =
      existing !== undefined ? [existing] : this.elasticIps.map((eip) => eip.attrAllocationId);
    const flowLogs = new logs.LogGroup(this, "FlowLogs", {
      retention: retentionFor(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc = new ec2.Vpc(this, "Vpc", {
      // Two zones from Fn::GetAZs (see the stack's availabilityZones): no lookup, no credentials.
      maxAzs: 2,
      natGateways: props.natGateways,
      natGatewayProvider: ec2.NatProvider.gateway({
        eipAllocationIds: allocationIds,
      }),
      subnetConfiguration: [
        { name: "Public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: "Private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      ],
      flowLogs: {
        All: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });

    this.dynamoDbEndpoint = this.vpc.addGatewayEndpoint("DynamoDbEndpoint", {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
    });

    this.securityGroup = new ec2.SecurityGroup(this, "ProberSecurityGroup", {
      vpc: this.vpc,
      description: "Email Scout prober: outbound mail ports and HTTPS only, nothing inbound",
      allowAllOutbound: false,
    });
    for (const port of props.mailPorts) {
      this.securityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(port),
        `mail checks and probes (TCP ${port})`,
      );
    }
    // DynamoDB's addresses (its regional prefix list, which the gateway endpoint routes) are
    // public IPv4 addresses, so this one rule lets out both paths. A rule naming the prefix list
    // itself would need its id, which only a lookup with credentials can find at synth.
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(props.awsApiPort),
      "HTTPS to the AWS APIs: DynamoDB by the gateway endpoint, SES, Secrets Manager, SQS and X-Ray by NAT",
    );
    // No rule for DNS (53) by default: the VPC's Amazon-provided resolver (VPC base + 2,
    // 169.254.169.253), which the posture checks ask unless posture.resolver names another, is
    // reached through the VPC and security groups do not filter traffic to it. A named resolver
    // is asked over UDP, and over TCP when an answer is truncated: both, to that address only.
    const resolver = props.postureResolver;
    if (resolver !== undefined) {
      const peer = isIPv6(resolver.host)
        ? ec2.Peer.ipv6(`${resolver.host}/128`)
        : ec2.Peer.ipv4(`${resolver.host}/32`);
      this.securityGroup.addEgressRule(
        peer,
        ec2.Port.udp(resolver.port),
        `posture DNS queries (UDP ${resolver.port})`,
      );
      this.securityGroup.addEgressRule(
        peer,
        ec2.Port.tcp(resolver.port),
        `posture DNS queries, truncated answers (TCP ${resolver.port})`,
      );
    }

    if (existing !== undefined) {
      new CfnOutput(scope, "NatElasticIpAllocationId", {
        value: existing,
        description:
          "The Elastic IP of the prober (NAT gateway), allocated outside the stack: its address is in aws ec2 describe-addresses --allocation-ids",
      });
    }
    this.elasticIps.forEach((eip, index) => {
      new CfnOutput(scope, `NatElasticIp${index + 1}`, {
        value: eip.ref,
        description:
          "Public IPv4 address of the prober (NAT gateway): allowlist it, and ask AWS to lift the port-25 limit for it",
      });
    });
  }
}
