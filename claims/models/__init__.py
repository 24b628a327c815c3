"""The Claims app's models, one module per concern; every model is importable from ``claims.models``."""

from claims.models.claims import (  # noqa: F401
    ZERO,
    Balances,
    Claim,
    ClaimLine,
    ClaimStatus,
    FrequencyCode,
    ScrubStatus,
)
from claims.models.edi import (  # noqa: F401
    ClaimAcknowledgment,
    X12File,
    X12FileKind,
    X12FileStatus,
)
from claims.models.ledger import (  # noqa: F401
    ClaimStatusChange,
    Party,
    PatientResponsibility,
    Transaction,
    TransactionKind,
    TransactionSource,
)
from claims.models.remittances import (  # noqa: F401
    ExceptionKind,
    ExceptionStatus,
    ProviderAdjustment,
    Remittance,
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceException,
    RemittanceLine,
    RemittanceStatus,
)
from claims.models.scrubber import (  # noqa: F401
    MueLimit,
    NcciPtpEdit,
    ScrubRuleSetting,
)
from claims.models.submission import (  # noqa: F401
    BatchClaim,
    BatchStatus,
    Clearinghouse,
    DeliveryAttempt,
    RemoteFile,
    SubmissionBatch,
)
from claims.models.underpayments import (  # noqa: F401
    LineVariance,
    Underpayment,
    UnderpaymentChange,
    UnderpaymentStatus,
    VarianceKind,
)
