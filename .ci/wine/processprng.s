# bcryptprimitives.dll stub for Wine 8, which lacks it: Go >= 1.22 binaries
# import bcryptprimitives!ProcessPrng at start-up. ProcessPrng(buf, len)
# calls advapi32!SystemFunction036 (RtlGenRandom) and widens its BOOLEAN
# result to the BOOL that ProcessPrng returns.
	.text
	.globl	ProcessPrng
ProcessPrng:
	subq	$40, %rsp			# 32 bytes shadow space, 16-byte alignment
	movl	%edx, %edx			# SIZE_T length -> ULONG (Go never asks for 4 GiB)
	call	*__imp_SystemFunction036(%rip)
	movzbl	%al, %eax
	addq	$40, %rsp
	ret

	.globl	DllMain
DllMain:
	movl	$1, %eax			# TRUE: nothing to set up
	ret
