"""Reject bad answers before anything is generated, with a message that says what to type.

Runs inside cookiecutter (its own process): plain Python, no ethnet import, so the template
also works with plain `cookiecutter` or `cruft`.
"""

import re
import sys

DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
COMPONENTS = {"ethstats", "blockscout", "monitoring", "rpc-ingress"}
GIT_URL = re.compile(r"(https://|http://|ssh://|file://|git@[^:\s]+:)\S+")

answers = {
    "network_name": "{{ cookiecutter.network_name }}",
    "environments": "{{ cookiecutter.environments }}",
    "validators": "{{ cookiecutter.validators }}",
    "rpc_nodes": "{{ cookiecutter.rpc_nodes }}",
    "bootnodes": "{{ cookiecutter.bootnodes }}",
    "chain_id_base": "{{ cookiecutter.chain_id_base }}",
    "components": "{{ cookiecutter.components }}",
    "repo_url": "{{ cookiecutter.repo_url }}",
    "branch": "{{ cookiecutter.branch }}",
    "live_environments": "{{ cookiecutter.live_environments }}",
}
problems = []


def split(text):
    return [item.strip() for item in text.split(",") if item.strip()]


name = answers["network_name"]
if not DNS_LABEL.fullmatch(name) or len(name) > 50:
    problems.append(f"network_name {name!r}: lowercase letters, digits and '-', starting with a "
                    "letter, at most 50 characters")
environments = split(answers["environments"])
if not environments:
    problems.append("environments: give at least one, e.g. dev,staging,prod")
for env in environments:
    if not DNS_LABEL.fullmatch(env) or len(f"{name}-{env}") > 63:
        problems.append(f"environment {env!r}: a DNS label; '{name}-{env}' must fit 63 characters")
if len(set(environments)) != len(environments):
    problems.append("environments: each name once")
for field, minimum in (("validators", 1), ("rpc_nodes", 0), ("bootnodes", 0)):
    value = answers[field]
    if not value.isdigit() or int(value) < minimum:
        problems.append(f"{field} {value!r}: a whole number, at least {minimum}")
base = answers["chain_id_base"]
if not base.isdigit() or int(base) < 1 or int(base) + len(environments) > 2**53:
    problems.append(f"chain_id_base {base!r}: a positive whole number")
unknown = [c for c in split(answers["components"]) if c not in COMPONENTS]
if unknown:
    problems.append(f"components {unknown}: choose from {', '.join(sorted(COMPONENTS))}")
if not GIT_URL.fullmatch(answers["repo_url"]):
    problems.append(f"repo_url {answers['repo_url']!r}: a git URL (https://, ssh://, git@host:path)")
if not re.fullmatch(r"[A-Za-z0-9._/-]+", answers["branch"]) or ".." in answers["branch"]:
    problems.append(f"branch {answers['branch']!r}: a git branch name")
not_envs = [e for e in split(answers["live_environments"]) if e not in environments]
if not_envs:
    problems.append(f"live_environments {not_envs}: not among the environments")

if problems:
    print("ethnet template: cannot generate the network repository:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    sys.exit(1)
