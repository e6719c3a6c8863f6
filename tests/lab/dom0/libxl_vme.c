/*
 * libxl_vme.so: preloaded into the lab's libvirtd, adds VME to the host CPU
 * features libxl reports, and changes nothing else.
 *
 * libvirt's libxl driver will not start unless it can name the host CPU
 * after one of its CPU models, and every model needs VME (CPUID.1:EDX
 * bit 1) or SEP. Xen clears SEP on AMD CPUs (only legacy mode has
 * SYSENTER), and QEMU's TCG does not implement VME, so in the lab no model
 * fits ("Cannot find suitable CPU model for given data"). libvirt uses the
 * model for its capabilities XML only; guests never see it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libxl.h>

#define CPUID_1_EDX_VME (1u << 1)

int libxl_get_physinfo(libxl_ctx *ctx, libxl_physinfo *physinfo)
{
    static int (*real)(libxl_ctx *, libxl_physinfo *);
    int rc;

    if ( !real )
        real = (int (*)(libxl_ctx *, libxl_physinfo *))
               dlsym(RTLD_NEXT, "libxl_get_physinfo");
    if ( !real )
        return ERROR_FAIL;
    rc = real(ctx, physinfo);
    if ( rc == 0 )
        physinfo->hw_cap[0] |= CPUID_1_EDX_VME;  /* word 0: CPUID.1:EDX */
    return rc;
}
