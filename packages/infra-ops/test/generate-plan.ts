/**
 * A generated `show -json` plan of N aws_instance resources, shaped like Terraform's (before/after
 * with the attributes an instance really has, unknowns, sensitive user_data), cycling through
 * create, update, delete, replace and no-op. Used by the plan-size test and bench/infra-ops.mjs.
 */
const ACTIONS = [['create'], ['update'], ['delete'], ['delete', 'create'], ['no-op']];

function instance(i: number, v: string) {
  return {
    ami: `ami-0${v}${String(i).padStart(6, '0')}`,
    instance_type: v === 'a' ? 't3.small' : 't3.medium',
    availability_zone: 'eu-west-1a',
    subnet_id: 'subnet-0123456789abcdef0',
    vpc_security_group_ids: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'],
    associate_public_ip_address: false,
    ebs_optimized: true,
    monitoring: true,
    iam_instance_profile: 'node-profile',
    key_name: 'ops',
    root_block_device: [
      { volume_size: 50, volume_type: 'gp3', encrypted: true, delete_on_termination: true },
    ],
    tags: { Name: `node-${i}`, team: 'platform', env: 'prod', managed_by: 'terraform' },
    user_data: `#!/bin/bash\necho node ${i} ${v}\n`,
  };
}

export function generatePlan(n: number) {
  return {
    format_version: '1.2',
    terraform_version: '1.9.0',
    resource_changes: Array.from({ length: n }, (_, i) => {
      const actions = ACTIONS[i % ACTIONS.length]!;
      return {
        address: `module.svc_${i % 20}.aws_instance.node[${i}]`,
        module_address: `module.svc_${i % 20}`,
        mode: 'managed',
        type: 'aws_instance',
        name: 'node',
        index: i,
        provider_name: 'registry.terraform.io/hashicorp/aws',
        change: {
          actions,
          before:
            actions[0] === 'create' ? null : { id: `i-0${String(i).padStart(16, '0')}`, ...instance(i, 'a') },
          after: actions[0] === 'delete' && actions.length === 1 ? null : instance(i, 'b'),
          after_unknown: { id: true, arn: true, private_ip: true, public_dns: true },
          before_sensitive: { user_data: true },
          after_sensitive: { user_data: true },
        },
      };
    }),
  };
}
