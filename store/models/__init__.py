"""SQLAlchemy models: everything AutoStack remembers, one table per noun, a module per aggregate.

Every model is importable from here (`from store.models import Deployment`), and importing the
package registers every table on `Base.metadata`, which Alembic compares with the migrations.
"""

from store.models.base import Base, BigId, JSONType, UTCDateTime, utcnow
from store.models.deliveries import Delivery, HookReconciler, HookRedelivery
from store.models.deployments import Deployment, DeploymentLog, LogArchive, StickyComment
from store.models.domains import Domain
from store.models.envvars import EnvVar, StoredSecret
from store.models.projects import AppState, Environment, EnvironmentLock, Installation, Project
from store.models.teams import ApiToken, AuditEvent, Invitation, Member, Team
from store.models.traffic import RequestHit

__all__ = [
    "ApiToken",
    "AppState",
    "AuditEvent",
    "Base",
    "BigId",
    "Delivery",
    "Deployment",
    "DeploymentLog",
    "Domain",
    "EnvVar",
    "Environment",
    "EnvironmentLock",
    "HookReconciler",
    "HookRedelivery",
    "Installation",
    "Invitation",
    "JSONType",
    "LogArchive",
    "Member",
    "Project",
    "RequestHit",
    "StickyComment",
    "StoredSecret",
    "Team",
    "UTCDateTime",
    "utcnow",
]
