"""The smallest additions that let moto's CloudFormation create our stacks.

moto creates most of the resource types in infra/cloudformation for real (VPC, subnets, security
groups, endpoints, IAM, KMS, DynamoDB, SQS, EventBridge, ECS, ELB, API Gateway, SageMaker,
autoscaling, logs). What it lacks:

1. Resource types it has no CloudFormation model for (Cognito user pools, Secrets Manager
   secrets, CloudWatch alarms, WAF, Backup, SQS queue policies, VPC link v2, ...). Without a
   model moto skips the resource silently, and a Ref or GetAtt to it then breaks or resolves to
   nothing. `StandIn` is a model for each such type: moto still resolves every one of its
   properties (so a broken Ref, GetAtt, Sub or ImportValue inside it fails the stack as it
   would on AWS) and the stand-in answers Ref and GetAtt with a synthetic, unique value.
   `STAND_INS` records what each one was given, for the rehearsal to inspect.
2. The intrinsic function Fn::Cidr, which moto does not evaluate: computed here with ipaddress
   the way CloudFormation documents it.
3. ELBv2: moto's CloudFormation model of a load balancer ignores `Type` (every one becomes an
   ALB, which then refuses the NLB's TCP listeners) and answers neither its LoadBalancerFullName
   nor a target group's TargetGroupFullName. The type is passed on; the full names are derived
   from the ARNs as AWS does.
4. Ref of an AWS::ApiGateway::Deployment: moto hands on its model object, AWS the deployment id.

The templates themselves reach moto as JSON, decoded by cfn-lint: moto's YAML loader misreads
the `!Condition` short form (test_rehearsal.py).

And one limit not shimmed: moto cannot delete a VPC built like ours (it has no CloudFormation
deletion for route tables, their associations or VPC endpoints). The network stack retains
nothing, so the rehearsal's destroy and redeploy keep it and cycle every other stack.

Nothing else of moto is changed: exports, imports, parameters, conditions and the supported
resources are moto's own.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.apigateway import models as apigateway_models
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.elbv2 import models as elbv2_models

STAND_INS: dict[str, dict[str, Any]] = {}  # logical id -> {"type", "properties", "physical_id"}


class StandIn:
    """A resource moto cannot create: resolved properties kept, Ref and GetAtt synthetic. Each
    stand-in class also derives directly from CloudFormationModel, where moto looks for models."""

    TYPE = "Shim::Base"

    def __init__(self, logical_id: str, properties: dict[str, Any], region: str, account: str) -> None:
        self.logical_id = logical_id
        self.properties = properties
        service = self.TYPE.split("::")[1].lower()
        self.physical_resource_id = f"arn:aws:{service}:{region}:{account}:{logical_id.lower()}/{uuid.uuid4().hex[:12]}"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def cloudformation_type(cls) -> str:  # type: ignore[override] - moto's own base signature, patched for the rehearsal
        return cls.TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return f"{self.physical_resource_id}/{attribute_name}"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override] - moto's own base signature, patched for the rehearsal
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> StandIn:
        logical_id = kwargs.get("LogicalId", resource_name)
        properties = cloudformation_json.get("Properties", {})
        instance = cls(logical_id, properties, region_name, account_id)
        STAND_INS[f"{kwargs.get('StackId', '')}/{logical_id}"] = {
            "type": cls.TYPE,
            "properties": properties,
            "physical_id": instance.physical_resource_id,
        }
        return instance

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override] - moto's own base signature, patched for the rehearsal
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override] - moto's own base signature, patched for the rehearsal
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        return None


def _cidr(spec: list[Any], resources_map: Any) -> list[str]:
    block, count, bits = (parsing.clean_json(v, resources_map) for v in spec)
    network = ipaddress.ip_network(str(block))
    prefix = network.max_prefixlen - int(bits)
    return [str(subnet) for subnet in list(network.subnets(new_prefix=prefix))[: int(count)]]


def _target_group_attribute(self: Any, attribute_name: str) -> Any:
    full_name = self.arn.split(":", 5)[5]  # targetgroup/<name>/<id>
    attributes = {
        "TargetGroupFullName": full_name,
        "TargetGroupName": self.name,
        "TargetGroupArn": self.arn,
        "LoadBalancerArns": list(getattr(self, "load_balancer_arns", [])),
    }
    return attributes[attribute_name]


@contextmanager
def installed(resource_types: set[str]) -> Iterator[set[str]]:
    """Inside: moto knows a stand-in for each of `resource_types` it lacks, and Fn::Cidr.
    Yields the set of types that got a stand-in (the rehearsal reports them)."""
    missing = {t for t in resource_types if t not in parsing.get_model_map() and t not in parsing.NULL_MODELS}
    classes = [
        type(f"StandIn_{t.replace('::', '_')}", (StandIn, CloudFormationModel), {"TYPE": t}) for t in sorted(missing)
    ]
    original_clean_json = parsing.clean_json
    target_group = elbv2_models.FakeTargetGroup
    had_attribute = hasattr(target_group, "get_cfn_attribute")
    load_balancer = elbv2_models.FakeLoadBalancer
    original_lb_create = load_balancer.__dict__["create_from_cloudformation_json"]
    original_lb_attribute = load_balancer.get_cfn_attribute

    def lb_create(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        properties = cloudformation_json["Properties"]
        backend = elbv2_models.elbv2_backends[account_id][region_name]
        return backend.create_load_balancer(
            resource_name,
            properties.get("SecurityGroups"),
            properties.get("Subnets"),
            scheme=properties.get("Scheme", "internet-facing"),
            loadbalancer_type=properties.get("Type", "application"),
        )

    def lb_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name == "LoadBalancerFullName":
            return self.arn.split(":loadbalancer/", 1)[1]  # app|net/<name>/<id>
        if attribute_name == "SecurityGroups":
            return list(self.security_groups)
        return original_lb_attribute(self, attribute_name)

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, dict) and "Fn::Cidr" in resource_json:
            return _cidr(resource_json["Fn::Cidr"], resources_map)
        return original_clean_json(resource_json, resources_map)

    parsing.clean_json = clean_json
    if not had_attribute:
        target_group.get_cfn_attribute = _target_group_attribute  # type: ignore[attr-defined] - a patched moto attribute
    load_balancer.create_from_cloudformation_json = classmethod(lb_create)  # type: ignore[method-assign,assignment] - a patched moto method
    load_balancer.get_cfn_attribute = lb_attribute  # type: ignore[method-assign] - a patched moto method
    deployment = apigateway_models.Deployment
    deployment.physical_resource_id = property(lambda self: self.id)  # type: ignore[attr-defined] - a patched moto attribute
    for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cache.cache_clear()
    STAND_INS.clear()
    try:
        yield missing
    finally:
        parsing.clean_json = original_clean_json
        if not had_attribute:
            del target_group.get_cfn_attribute  # type: ignore[attr-defined] - a patched moto attribute
        load_balancer.create_from_cloudformation_json = original_lb_create  # type: ignore[method-assign] - a patched moto method
        load_balancer.get_cfn_attribute = original_lb_attribute  # type: ignore[method-assign] - a patched moto method
        del deployment.physical_resource_id  # type: ignore[attr-defined] - a patched moto attribute
        for cls in classes:  # forget the stand-ins: __subclasses__ holds them only weakly
            cls.TYPE = f"Shim::Retired::{uuid.uuid4().hex}"
        for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
            cache.cache_clear()
