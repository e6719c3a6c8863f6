"""What an errno from Xen becomes for the user, operation by operation."""

import errno

import pytest

from xenrr.hypercalls import errors, rr
from xenrr.hypercalls.errors import raise_for


@pytest.mark.parametrize("err, meanings, cls, text", [
    (errno.ENOSYS, rr.ENABLE, errors.NoXenrrSupportError, "no xenrr support"),
    (errno.EBUSY, rr.ENABLE, errors.DomainStateError, "the domain is running"),
    (errno.EPERM, rr.ENABLE, errors.DomainStateError, r"dom0 \(the control domain\) cannot"),
    (errno.EPERM, None, errors.NotPrivilegedError, "only dom0, as root"),
    (errno.EEXIST, rr.ENABLE, errors.DomainStateError, "already enabled"),
    (errno.ENOENT, rr.DISABLE, errors.DomainStateError, "not enabled"),
    (errno.ESRCH, rr.DISABLE, errors.NoSuchDomainError, "no such domain"),
    (errno.EACCES, None, errors.InterfaceMismatchError, "interface version"),
    (errno.EOPNOTSUPP, rr.GET_FRAMES, errors.DomainStateError, "not a PV domain"),
    (errno.EOPNOTSUPP, rr.PLAN, errors.InterfaceMismatchError, "no frame plans"),
    (errno.ENOMEM, rr.PLAN, errors.HypercallError, "out of memory for the plan"),
])
def test_an_errno_means_what_its_operation_says(err, meanings, cls, text):
    with pytest.raises(cls, match=text) as caught:
        raise_for(err, "enable domain 3", meanings)
    assert str(caught.value).startswith("enable domain 3: ")
    assert caught.value.errno == err


def test_an_errno_nobody_documents_is_named():
    with pytest.raises(errors.HypercallError) as caught:
        raise_for(errno.EIO, "stats of domain 1 vCPU 0")
    assert str(caught.value) == ("stats of domain 1 vCPU 0: Xen refused "
                                 "(EIO: Input/output error)")
