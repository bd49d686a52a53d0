<#
.SYNOPSIS
Runs the kbharness suite binary inside a Hyper-V lab VM and brings the reports back.

.DESCRIPTION
On the Hyper-V host, elevated. Uses PowerShell Direct (host and guest Windows 10 / Server 2016
or later): copies the Windows suite binary and the lab fixtures into the guest, runs the suites
there as the guest administrator, copies the reports back, and returns the suites' exit code.

With -Checkpoint, a VM checkpoint is taken first and applied afterwards, so the guest is left as
it was even if a suite or a crash left it altered. The suites undo their own changes; the
checkpoint is the belt to those braces. Applying it also discards the guest's System log of the
run, so use it without -Checkpoint when hunting a crash.

A guest that restarts during the run (KB943650's signature) breaks the session: the script says
so, and the next run's KB943650 suite reads the guest's System log for the crash events.

Build the binary first, on any machine with Go:
    GOOS=windows go test -c -o out/kbharness-suites.exe ./suites

.PARAMETER VMName
The lab VM.
.PARAMETER Credential
An administrator account of the guest (the suites change routes and addresses).
.PARAMETER LabDir
Directory of lab fixtures (default.yaml, multihomed.yaml) naming the guest's lab adapters by
alias or MAC. The guest's adapter holding its own default route is refused unless a fixture sets
allowDefaultRouteInterface.
.PARAMETER LabelFilter
Ginkgo label filter, e.g. "secondary-ip-route-loss" or "KB287032 && netsh".
.PARAMETER ReportDir
Where the reports land on the host; a time-stamped folder is made inside.
.PARAMETER Checkpoint
Take a checkpoint before the run and apply it after.

.EXAMPLE
.\run-vm.ps1 -VMName kb-2016 -Credential (Get-Credential) -LabDir .\labs\kb-2016 -LabelFilter secondary-ip-route-loss -Checkpoint
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $VMName,
    [Parameter(Mandatory)] [pscredential] $Credential,
    [Parameter(Mandatory)] [string] $LabDir,
    [string] $SuiteBinary = (Join-Path $PSScriptRoot 'out\kbharness-suites.exe'),
    [string] $LabelFilter = '',
    [string] $ReportDir = (Join-Path $PSScriptRoot 'out\vm-reports'),
    [switch] $Checkpoint
)
$ErrorActionPreference = 'Stop'

foreach ($path in $SuiteBinary, $LabDir) {
    if (-not (Test-Path $path)) { throw "run-vm: $path not found" }
}
$vm = Get-VM -Name $VMName
if ($vm.State -ne 'Running') { throw "run-vm: VM $VMName is $($vm.State), not Running" }

$stamp = Get-Date -Format 'yyyyMMdd-HHmmss'
$guestRoot = 'C:\kbharness'
$guestReports = "$guestRoot\reports\$stamp"
$hostReports = Join-Path $ReportDir "$VMName-$stamp"
$checkpointName = "kbharness-$stamp"

if ($Checkpoint) {
    Write-Host "run-vm: checkpoint $checkpointName"
    Checkpoint-VM -VM $vm -SnapshotName $checkpointName
}

$session = $null
$exitCode = 1
try {
    $session = New-PSSession -VMName $VMName -Credential $Credential
    Invoke-Command -Session $session -ScriptBlock {
        param($root)
        New-Item -ItemType Directory -Force -Path "$root\labs" | Out-Null
    } -ArgumentList $guestRoot
    Copy-Item -ToSession $session -Path $SuiteBinary -Destination "$guestRoot\kbharness-suites.exe" -Force
    Copy-Item -ToSession $session -Path (Join-Path $LabDir '*.yaml') -Destination "$guestRoot\labs" -Force

    Write-Host "run-vm: running the suites in $VMName (label filter: '$LabelFilter')"
    $exitCode = Invoke-Command -Session $session -ScriptBlock {
        param($root, $reports, $filter)
        $suiteArgs = @('-test.v', '-test.timeout=0', "-kb.lab-dir=$root\labs", "-kb.report-dir=$reports")
        if ($filter) { $suiteArgs += "-ginkgo.label-filter=$filter" }
        & "$root\kbharness-suites.exe" @suiteArgs | Out-Host
        $LASTEXITCODE
    } -ArgumentList $guestRoot, $guestReports, $LabelFilter

    New-Item -ItemType Directory -Force -Path $hostReports | Out-Null
    Copy-Item -FromSession $session -Path "$guestReports\*" -Destination $hostReports -Force
    Write-Host "run-vm: reports written to $hostReports"
    Get-Content (Join-Path $hostReports 'summary.txt') | Write-Host
}
catch [System.Management.Automation.Remoting.PSRemotingTransportException] {
    Write-Warning "run-vm: the session to $VMName broke during the run: the guest may have restarted (KB943650 signature). The next run reports the crash events it finds."
    $exitCode = 1
}
finally {
    if ($session) { Remove-PSSession $session }
    if ($Checkpoint) {
        Write-Host "run-vm: applying checkpoint $checkpointName"
        Restore-VMSnapshot -VMName $VMName -Name $checkpointName -Confirm:$false
        Remove-VMSnapshot -VMName $VMName -Name $checkpointName
        Start-VM -Name $VMName -ErrorAction SilentlyContinue
    }
}
exit $exitCode
