"""Which handler serves each GitHub operation; each answers with the documented example shape,
patched with what was asked, and refuses what GitHub would refuse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.github_standin.answers import Answer
from tests.github_standin.changes import compare, pull_files
from tests.github_standin.checks import create_check_run, update_check_run
from tests.github_standin.ci import branch, branch_rules, check_runs_for_ref, combined_status
from tests.github_standin.comments import create_comment, create_reaction, list_comments, update_comment
from tests.github_standin.contents import blob, contents, tarball, tree
from tests.github_standin.deployments import (
    create_deployment,
    create_deployment_status,
    create_status,
    list_deployment_statuses,
    list_deployments,
)
from tests.github_standin.hook_deliveries import get_delivery, list_deliveries, redeliver
from tests.github_standin.installations import access_token, installation, manifest_conversion
from tests.github_standin.openapi import OpenAPI, Operation
from tests.github_standin.state import State
from tests.github_standin.users import authenticated_user, org_membership, permission

Handler = Callable[[State, OpenAPI, Operation, dict[str, str], Any, dict[str, str]], Answer]
HANDLERS: dict[tuple[str, str], Handler] = {
    ("POST", "/app/installations/{installation_id}/access_tokens"): access_token,
    ("GET", "/app/installations/{installation_id}"): installation,
    ("GET", "/app/hook/deliveries"): list_deliveries,
    ("GET", "/app/hook/deliveries/{delivery_id}"): get_delivery,
    ("POST", "/app/hook/deliveries/{delivery_id}/attempts"): redeliver,
    ("POST", "/repos/{owner}/{repo}/check-runs"): create_check_run,
    ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"): update_check_run,
    ("POST", "/repos/{owner}/{repo}/statuses/{sha}"): create_status,
    ("GET", "/repos/{owner}/{repo}/rules/branches/{branch}"): branch_rules,
    ("GET", "/repos/{owner}/{repo}/branches/{branch}"): branch,
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"): check_runs_for_ref,
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/status"): combined_status,
    ("POST", "/repos/{owner}/{repo}/deployments"): create_deployment,
    ("GET", "/repos/{owner}/{repo}/deployments"): list_deployments,
    ("POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"): create_deployment_status,
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"): list_deployment_statuses,
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): list_comments,
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): create_comment,
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): update_comment,
    ("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"): create_reaction,
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"): permission,
    ("GET", "/repos/{owner}/{repo}/tarball/{ref}"): tarball,
    ("GET", "/repos/{owner}/{repo}/contents/{path}"): contents,
    ("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}"): tree,
    ("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}"): blob,
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files"): pull_files,
    ("GET", "/repos/{owner}/{repo}/compare/{basehead}"): compare,
    ("GET", "/repos/{owner}/{repo}/compare/{base}...{head}"): compare,
    ("GET", "/user"): authenticated_user,
    ("GET", "/user/memberships/orgs/{org}"): org_membership,
    ("POST", "/app-manifests/{code}/conversions"): manifest_conversion,
}
