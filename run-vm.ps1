<#
.SYNOPSIS
Runs the kbharness suite binary against one or many Hyper-V lab VMs, in parallel, and brings
each run directory back; a guest that crashes is noticed and its bugcheck, dump and System log
are collected.

.DESCRIPTION
On the Hyper-V host, elevated, in Windows PowerShell 5.1 (no PowerShell 7 feature is used).

For each VM, in parallel up to -ThrottleLimit (one runspace per VM):
  1. with -RestoreCheckpoint NAME (or a Checkpoint column in -VMList): apply that checkpoint,
     start the VM and wait for its heartbeat;
  2. with -Checkpoint: take a checkpoint now, applied again at the end;
  3. run the suites:
     - a guest VM (Windows 10 / Server 2016 or later): PowerShell Direct copies the suite binary
       and the lab fixtures in, runs the suites in the guest as the -Credential account, and
       copies the reports back;
     - a legacy guest (a Target column: winrm://, psdirect:// or ssh://, see README "Legacy
       guests"): the suite binary runs here, on the Hyper-V host, with -kb.target URL; the
       password reaches it as KBHARNESS_PASSWORD in its environment, never on a command line;
  4. while the suites run, the VM is watched from the host every 5 s: its heartbeat
     ((Get-VM).Heartbeat, the Heartbeat integration service) lost for -HeartbeatGraceSeconds,
     its uptime going back (a reset), or a PowerShell Direct session that broke mean the guest
     crashed. After the run, the crash marker the KB943650 suite leaves while it stresses the
     host (%LocalAppData%\kbharness\crash-marker-<scenario>.json of the guest account, see
     internal/crashmark) also means it: the suite never finished. Then, once the guest is back,
     the System log is exported (wevtutil epl), C:\Windows\MEMORY.DMP and
     C:\Windows\Minidump\*.dmp written since the run started are copied back (Copy-Item
     -FromSession), and the bugcheck is parsed from BugCheck event 1001 (else Kernel-Power 41's
     BugcheckCode) into crash.json in the run directory, for the results store.

Every run lands in <OutDir>\<VM>\<yyyyMMdd-HHmmss> (one time stamp per invocation), holding the
suites' reports (junit.xml, report.json, summary.txt, facts.json), console.log, run-vm.log,
run-vm.json (this script's verdict for the VM) and, after a crash, crash.json, System.evtx,
MEMORY.DMP and Minidump\*.dmp.

crash.json (UTF-8, no BOM; paths relative to the run directory; null where unknown):
    {"vm": "kb-2016", "label": "win2016", "detected": "heartbeat lost (NoContact) for 60 s",
     "detectedAt": "2026-11-29T23:40:12Z", "runStarted": "2026-11-29T23:31:02Z",
     "bugcheck": "0x000000D1", "params": ["0x0000000000000028", "0x0000000000000002", ...],
     "bugcheckSource": "BugCheck 1001", "dump": "MEMORY.DMP", "minidumps": ["Minidump/...dmp"],
     "systemLog": "System.evtx", "marker": {"scenario": "KB943650", ...},
     "events": [{"provider": ..., "id": 1001, "time": ..., "record": ...}], "errors": []}

The exit code is 0 when every VM's suites passed and no guest crashed, else 1 (with one VM and
no crash: the suites' own exit code, as before).

Build the binary first, on any machine with Go:
    GOOS=windows go test -c -o out/kbharness-suites.exe ./suites

.PARAMETER VMName
The lab VM(s): -VMName kb-2016 or -VMName kb-2016,kb-2019.
.PARAMETER VMList
A .csv or .json list of VMs instead of -VMName. Columns (JSON: properties): Name (required),
Label (the OS build, e.g. win2016, as the CI agents are labelled), LabDir, Checkpoint (to
restore before the run), Target (a legacy guest's -kb.target URL). Unknown columns are errors.
Relative LabDir paths are relative to the list's folder.
.PARAMETER Label
With -VMList: run only the VMs whose Label is one of these.
.PARAMETER Credential
An administrator account of the guests (the suites change routes and addresses).
.PARAMETER LabDir
Directory of lab fixtures (default.yaml, multihomed.yaml) naming the guest's lab adapters by
alias or MAC. If it has a subfolder named like the VM, that subfolder is the VM's. A VMList row's
LabDir wins. The guest's adapter holding its own default route is refused unless a fixture sets
allowDefaultRouteInterface.
.PARAMETER LabelFilter
Ginkgo label filter, e.g. "secondary-ip-route-loss" or "KB287032 && netsh".
.PARAMETER SuiteArgs
More suite flags, e.g. -SuiteArgs '-kb.hammer-agent=C:\agents\kbh-hammer.exe'.
.PARAMETER OutDir
Where the run directories land on the host (alias: -ReportDir).
.PARAMETER RestoreCheckpoint
Apply this checkpoint of every VM before its run (a VMList Checkpoint column wins).
.PARAMETER Checkpoint
Take a checkpoint before the run and apply it after (crash evidence is collected before).
.PARAMETER ThrottleLimit
How many VMs run at once.
.PARAMETER HeartbeatGraceSeconds
How long a lost heartbeat is tolerated before the guest is taken for crashed.
.PARAMETER RebootTimeoutSeconds
How long to wait for a guest to come back (after a restore or a crash).
.PARAMETER NoMemoryDump
Do not copy MEMORY.DMP (it is as large as the guest's memory); minidumps are still copied.

.EXAMPLE
.\run-vm.ps1 -VMName kb-2016 -Credential (Get-Credential) -LabDir .\labs\kb-2016 -LabelFilter secondary-ip-route-loss -Checkpoint
.EXAMPLE
.\run-vm.ps1 -VMName kb-2016,kb-2019 -Credential $cred -LabDir .\labs -RestoreCheckpoint clean -ThrottleLimit 2 -OutDir .\runs
.EXAMPLE
.\run-vm.ps1 -VMList .\ci\vms.csv -Label win2008r2 -Credential $cred -LabDir .\labs -OutDir .\runs
#>
[CmdletBinding(DefaultParameterSetName = 'Names')]
param(
    [Parameter(Mandatory, ParameterSetName = 'Names')] [string[]] $VMName,
    [Parameter(Mandatory, ParameterSetName = 'List')] [string] $VMList,
    [Parameter(ParameterSetName = 'List')] [string[]] $Label = @(),
    [Parameter(Mandatory)] [pscredential] $Credential,
    [string] $LabDir = '',
    [string] $SuiteBinary = (Join-Path $PSScriptRoot 'out\kbharness-suites.exe'),
    [string] $LabelFilter = '',
    [string[]] $SuiteArgs = @(),
    [Alias('ReportDir')] [string] $OutDir = (Join-Path $PSScriptRoot 'out\vm-reports'),
    [string] $RestoreCheckpoint = '',
    [switch] $Checkpoint,
    [ValidateRange(1, 64)] [int] $ThrottleLimit = 4,
    [ValidateRange(10, 3600)] [int] $HeartbeatGraceSeconds = 60,
    [ValidateRange(60, 7200)] [int] $RebootTimeoutSeconds = 900,
    [switch] $NoMemoryDump
)
$ErrorActionPreference = 'Stop'

# The VMs: from -VMName or the -VMList file, each with its lab directory resolved.
function Read-KbhVMList([string] $Path) {
    if (-not (Test-Path -LiteralPath $Path)) { throw "run-vm: VM list $Path not found" }
    if ($Path -match '\.json$') {
        $parsed = ConvertFrom-Json -InputObject (Get-Content -Raw -LiteralPath $Path)
    }
    elseif ($Path -match '\.csv$') {
        $parsed = Import-Csv -LiteralPath $Path
    }
    else { throw "run-vm: VM list $Path is neither .csv nor .json" }
    $known = 'Name', 'Label', 'LabDir', 'Checkpoint', 'Target'
    $base = Split-Path -Parent (Resolve-Path -LiteralPath $Path).Path
    $row = 0
    foreach ($r in @($parsed)) {
        $row++
        foreach ($p in $r.PSObject.Properties) {
            if ($known -notcontains $p.Name) { throw "run-vm: ${Path} row ${row}: unknown column '$($p.Name)' (known: $($known -join ', '))" }
        }
        if (-not $r.Name) { throw "run-vm: ${Path} row ${row}: no Name" }
        $dir = "$($r.LabDir)"
        if ($dir -and -not [IO.Path]::IsPathRooted($dir)) { $dir = Join-Path $base $dir }
        [pscustomobject]@{
            Name = "$($r.Name)"; Label = "$($r.Label)"; LabDir = $dir
            Checkpoint = "$($r.Checkpoint)"; Target = "$($r.Target)"
        }
    }
}

if ($PSCmdlet.ParameterSetName -eq 'List') {
    $vms = @(Read-KbhVMList $VMList)
    if ($Label.Count -gt 0) { $vms = @($vms | Where-Object { $Label -contains $_.Label }) }
    if ($vms.Count -eq 0) { throw "run-vm: no VM in $VMList has the label $($Label -join ' or ')" }
}
else {
    $vms = @($VMName | ForEach-Object { [pscustomobject]@{ Name = $_; Label = ''; LabDir = ''; Checkpoint = ''; Target = '' } })
}

if (-not (Test-Path -LiteralPath $SuiteBinary)) { throw "run-vm: $SuiteBinary not found" }
$SuiteBinary = (Resolve-Path -LiteralPath $SuiteBinary).Path
$seen = @{}
foreach ($vm in $vms) {
    if ($seen.ContainsKey($vm.Name)) { throw "run-vm: VM $($vm.Name) named twice" }
    $seen[$vm.Name] = $true
    $null = Get-VM -Name $vm.Name # throws naming the VM when there is none
    $dir = $vm.LabDir
    if (-not $dir) { $dir = $LabDir }
    if (-not $dir) { throw "run-vm: no lab directory for $($vm.Name): pass -LabDir or a LabDir column" }
    if (Test-Path -LiteralPath (Join-Path $dir $vm.Name) -PathType Container) { $dir = Join-Path $dir $vm.Name }
    if (-not (Test-Path -Path (Join-Path $dir '*.yaml'))) { throw "run-vm: no lab fixture (*.yaml) in $dir for $($vm.Name)" }
    $vm.LabDir = (Resolve-Path -LiteralPath $dir).Path
    if (-not $vm.Checkpoint) { $vm.Checkpoint = $RestoreCheckpoint }
    if ($vm.Target -and $vm.Target -notmatch '^(winrm|psdirect|ssh)://') {
        throw "run-vm: $($vm.Name): target $($vm.Target) is not winrm://, psdirect:// or ssh://"
    }
}

# One VM's run, from restore to crash evidence. It runs in a runspace of its own, so it
# defines every helper it uses and reads nothing from the script's scope.
$worker = {
    param($Vm, $Opt)
    $ErrorActionPreference = 'Stop'
    Import-Module Hyper-V -ErrorAction Stop

    $name = $Vm.Name
    $runDir = Join-Path (Join-Path $Opt.OutDir $name) $Opt.Stamp
    New-Item -ItemType Directory -Force -Path $runDir | Out-Null
    $logFile = Join-Path $runDir 'run-vm.log'
    $consoleFile = Join-Path $runDir 'console.log'
    $guestRoot = 'C:\kbharness'
    $guestReports = "$guestRoot\reports\$($Opt.Stamp)"
    $result = [ordered]@{
        vm = $name; label = $Vm.Label; target = $Vm.Target; runDir = $runDir
        started = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ'); finished = $null
        exitCode = $null; crashed = $false; error = $null
    }

    function Say([string] $Message) {
        $line = "run-vm [$name] $Message"
        Write-Host $line
        Add-Content -LiteralPath $logFile -Value $line
    }

    function Write-Utf8Json([string] $Path, $Object) {
        # Set-Content -Encoding UTF8 writes a BOM in PowerShell 5.1, which Go's encoding/json rejects.
        $json = ConvertTo-Json -InputObject $Object -Depth 6
        [IO.File]::WriteAllText($Path, $json + "`n", (New-Object Text.UTF8Encoding $false))
    }

    # Quotes one argument for a Windows command line (CommandLineToArgvW rules, as Go parses it).
    function ConvertTo-ArgLine([string[]] $Arguments) {
        ($Arguments | ForEach-Object {
                if ($_ -and $_ -notmatch '[\s"]') { $_ }
                else { '"' + (($_ -replace '(\\*)"', '$1$1\"') -replace '(\\+)$', '$1$1') + '"' }
            }) -join ' '
    }

    function Test-Heartbeat($State) { "$State" -like 'Ok*' }

    # Waits until the VM runs with a heartbeat and, for a guest reached by PowerShell Direct, a
    # session opens; returns the session (or $null for other guests).
    function Wait-Guest([bool] $Direct) {
        $deadline = (Get-Date).AddSeconds($Opt.RebootTimeout)
        $last = ''
        while ((Get-Date) -lt $deadline) {
            $v = Get-VM -Name $name
            if ($v.State -eq 'Off' -or $v.State -eq 'Saved') { Start-VM -Name $name }
            elseif ((Test-Heartbeat $v.Heartbeat) -or "$($v.Heartbeat)" -eq 'Disabled') {
                if (-not $Direct) { return $null }
                try { return New-PSSession -VMName $name -Credential $Opt.Credential -ErrorAction Stop }
                catch { $last = $_.Exception.Message }
            }
            else { $last = "heartbeat $($v.Heartbeat)" }
            Start-Sleep -Seconds 5
        }
        throw "the guest did not come back within $($Opt.RebootTimeout) s ($last)"
    }

    # A session for collecting crash evidence: PowerShell Direct, or WinRM to a winrm:// target.
    function Open-EvidenceSession {
        if (-not $Vm.Target -or $Vm.Target -like 'psdirect://*') { return Wait-Guest $true }
        $null = Wait-Guest $false
        if ($Vm.Target -notlike 'winrm://*') { throw "no PowerShell session to a $(($Vm.Target -split ':')[0]) guest" }
        $u = [Uri] $Vm.Target
        $ps = @{ ComputerName = $u.Host; Credential = $Opt.Credential; UseSSL = ($u.Query -notmatch '(^\?|&)http=1') }
        if (-not $u.IsDefaultPort -and $u.Port -gt 0) { $ps.Port = $u.Port }
        if ($u.Query -match '(^\?|&)insecure=1') { $ps.SessionOption = New-PSSessionOption -SkipCACheck -SkipCNCheck }
        $deadline = (Get-Date).AddSeconds($Opt.RebootTimeout)
        while ($true) {
            try { return New-PSSession @ps -ErrorAction Stop }
            catch { if ((Get-Date) -gt $deadline) { throw } }
            Start-Sleep -Seconds 10
        }
    }

    # The crash marker of the guest account (internal/crashmark.DefaultPath), if any.
    function Get-CrashMarker($Session) {
        Invoke-Command -Session $Session -ScriptBlock {
            $dir = $env:LOCALAPPDATA
            if (-not $dir) { $dir = [Environment]::GetFolderPath('LocalApplicationData') }
            Get-ChildItem -Path (Join-Path $dir 'kbharness\crash-marker-*.json') -ErrorAction SilentlyContinue |
                Select-Object -First 1 | ForEach-Object { [IO.File]::ReadAllText($_.FullName) }
        }
    }

    # BugCheck 1001 (param1 "0x000000d1 (0x..., 0x..., 0x..., 0x...)"), else Kernel-Power 41
    # (BugcheckCode in decimal, BugcheckParameter1..4), from `wevtutil qe System /f:xml` output.
    function Read-Bugcheck([string] $EventsXml) {
        $found = [ordered]@{ bugcheck = $null; params = @(); source = $null; dumpPath = $null; events = @() }
        if (-not $EventsXml.Trim()) { return $found }
        $doc = New-Object Xml.XmlDocument
        $doc.LoadXml("<Events>$EventsXml</Events>")
        $k41 = $null
        foreach ($e in $doc.SelectNodes("//*[local-name()='Event']")) {
            $sys = $e.SelectSingleNode("*[local-name()='System']")
            $id = [int] $sys.SelectSingleNode("*[local-name()='EventID']").InnerText
            $data = [ordered]@{}
            $i = 0
            foreach ($d in $e.SelectNodes("*[local-name()='EventData']/*[local-name()='Data']")) {
                $i++
                $key = $d.GetAttribute('Name')
                if (-not $key) { $key = "param$i" }
                $data[$key] = $d.InnerText
            }
            $found.events += [ordered]@{
                provider = $sys.SelectSingleNode("*[local-name()='Provider']").GetAttribute('Name'); id = $id
                time = $sys.SelectSingleNode("*[local-name()='TimeCreated']").GetAttribute('SystemTime')
                record = [long] $sys.SelectSingleNode("*[local-name()='EventRecordID']").InnerText
            }
            if ($id -eq 1001 -and "$($data['param1'])" -match '^\s*0x([0-9A-Fa-f]+)\s*\(([^)]*)\)') {
                $found.bugcheck = '0x{0:X8}' -f [Convert]::ToUInt64($Matches[1], 16)
                $found.params = @($Matches[2] -split ',' | ForEach-Object { $_.Trim() })
                $found.source = 'BugCheck 1001'
                $found.dumpPath = $data['param2']
            }
            elseif ($id -eq 41 -and $data['BugcheckCode'] -and $data['BugcheckCode'] -ne '0') {
                $k41 = $data
            }
        }
        if (-not $found.bugcheck -and $k41) {
            $found.bugcheck = '0x{0:X8}' -f [UInt64] $k41['BugcheckCode']
            $found.params = @(1..4 | ForEach-Object { $k41["BugcheckParameter$_"] })
            $found.source = 'Kernel-Power 41'
        }
        $found
    }

    # Waits for the guest, then exports its System log, copies the dumps written since
    # $Since and writes crash.json.
    function Save-CrashEvidence([string] $Detected, [DateTime] $Since, $Marker) {
        $crash = [ordered]@{
            vm = $name; label = $Vm.Label; detected = $Detected
            detectedAt = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ')
            runStarted = $Since.ToString('yyyy-MM-ddTHH:mm:ssZ')
            bugcheck = $null; params = @(); bugcheckSource = $null
            dump = $null; minidumps = @(); systemLog = $null; marker = $Marker; events = @(); errors = @()
        }
        Say "crash: $Detected; waiting for the guest to come back"
        $s = $null
        try {
            $s = Open-EvidenceSession
            if (-not $crash.marker -and -not $Vm.Target) {
                $m = Get-CrashMarker $s
                if ($m) { $crash.marker = ConvertFrom-Json -InputObject $m }
            }
            $sinceIso = $Since.AddMinutes(-1).ToString('yyyy-MM-ddTHH:mm:ss.fffZ')
            # BugCheck 1001 is logged once the dump is saved after the reboot: give it time.
            $deadline = (Get-Date).AddSeconds([Math]::Min(300, $Opt.RebootTimeout))
            do {
                $ev = Invoke-Command -Session $s -ArgumentList $guestRoot, $sinceIso -ScriptBlock {
                    param($root, $since)
                    $q = "*[System[((Provider[@Name='Microsoft-Windows-WER-SystemErrorReporting'] and EventID=1001)" +
                    " or (Provider[@Name='Microsoft-Windows-Kernel-Power'] and EventID=41)" +
                    " or (Provider[@Name='EventLog'] and EventID=6008)) and TimeCreated[@SystemTime>='$since']]]"
                    (& wevtutil.exe qe System "/q:$q" /f:xml) -join "`n"
                }
                $bc = Read-Bugcheck "$ev"
                if ($bc.source -eq 'BugCheck 1001' -or (Get-Date) -gt $deadline) { break }
                Start-Sleep -Seconds 15
            } while ($true)
            $crash.bugcheck = $bc.bugcheck; $crash.params = $bc.params; $crash.bugcheckSource = $bc.source
            $crash.events = $bc.events
            if (-not $bc.bugcheck) { $crash.errors += 'no bugcheck in the System log (BugCheck 1001, Kernel-Power 41) since the run started' }

            $files = Invoke-Command -Session $s -ArgumentList $guestRoot, $Since -ScriptBlock {
                param($root, $since)
                New-Item -ItemType Directory -Force -Path "$root\crash" | Out-Null
                & wevtutil.exe epl System "$root\crash\System.evtx" /ow:true 2>&1 | Out-Null
                $dumps = @(Get-Item -LiteralPath "$env:SystemRoot\MEMORY.DMP" -ErrorAction SilentlyContinue) +
                @(Get-ChildItem -Path "$env:SystemRoot\Minidump\*.dmp" -ErrorAction SilentlyContinue)
                @($dumps | Where-Object { $_ -and $_.LastWriteTimeUtc -ge $since.ToUniversalTime().AddMinutes(-1) } |
                    ForEach-Object { $_.FullName })
            }
            Copy-Item -FromSession $s -LiteralPath "$guestRoot\crash\System.evtx" -Destination $runDir -Force
            $crash.systemLog = 'System.evtx'
            foreach ($f in @($files)) {
                if ($f -like '*\MEMORY.DMP') {
                    if ($Opt.NoMemoryDump) { $crash.errors += "MEMORY.DMP not copied (-NoMemoryDump): $f"; continue }
                    Say "copying $f"
                    Copy-Item -FromSession $s -LiteralPath $f -Destination $runDir -Force
                    $crash.dump = 'MEMORY.DMP'
                }
                else {
                    New-Item -ItemType Directory -Force -Path (Join-Path $runDir 'Minidump') | Out-Null
                    Copy-Item -FromSession $s -LiteralPath $f -Destination (Join-Path $runDir 'Minidump') -Force
                    $crash.minidumps += 'Minidump/' + (Split-Path -Leaf $f)
                }
            }
            if (-not $crash.dump -and -not $crash.minidumps) { $crash.errors += 'no dump written since the run started' }
        }
        catch { $crash.errors += "collecting crash evidence: $($_.Exception.Message)" }
        finally { if ($s) { Remove-PSSession $s } }
        Write-Utf8Json (Join-Path $runDir 'crash.json') $crash
        Say "crash.json: bugcheck $($crash.bugcheck) ($($crash.bugcheckSource)), dump $($crash.dump), $($crash.minidumps.Count) minidump(s)"
    }

    # Watches the VM while $Running says the suites run; returns why the guest is taken for
    # crashed, or $null. $Drain, if any, is called on every tick (console output).
    function Watch-Guest([scriptblock] $Running, [scriptblock] $Drain) {
        $v = Get-VM -Name $name
        $up = $v.Uptime
        $useHeartbeat = Test-Heartbeat $v.Heartbeat
        if (-not $useHeartbeat) { Say "heartbeat is $($v.Heartbeat): crashes are noticed by uptime and state only" }
        $lostSince = $null
        while (& $Running) {
            if ($Drain) { $null = & $Drain }
            $v = Get-VM -Name $name
            if ($v.State -ne 'Running') { return "the VM is $($v.State)" }
            if ($v.Uptime -lt $up) { return "the guest restarted (VM uptime went from $up to $($v.Uptime))" }
            $up = $v.Uptime
            if ($useHeartbeat) {
                if (Test-Heartbeat $v.Heartbeat) { $lostSince = $null }
                elseif (-not $lostSince) { $lostSince = Get-Date }
                elseif (((Get-Date) - $lostSince).TotalSeconds -ge $Opt.HeartbeatGrace) {
                    return "heartbeat lost ($($v.Heartbeat)) for $($Opt.HeartbeatGrace) s"
                }
            }
            Start-Sleep -Seconds 5
        }
        if ($Drain) { $null = & $Drain }
        $null
    }

    $checkpointName = "kbharness-$($Opt.Stamp)"
    $tookCheckpoint = $false
    $session = $null
    try {
        if ($Vm.Checkpoint) {
            Say "applying checkpoint $($Vm.Checkpoint)"
            Restore-VMSnapshot -VMName $name -Name $Vm.Checkpoint -Confirm:$false
        }
        $direct = -not $Vm.Target
        $session = Wait-Guest $direct
        if ($Opt.Checkpoint) {
            Say "checkpoint $checkpointName"
            Checkpoint-VM -Name $name -SnapshotName $checkpointName
            $tookCheckpoint = $true
        }
        $since = [DateTime]::UtcNow
        $detected = $null
        $marker = $null

        if ($direct) {
            $before = Get-CrashMarker $session
            if ($before) {
                # An earlier run's guest crashed and nobody collected it; the suite will fail on
                # the marker too, so collect now, while the System log still has it.
                $m = ConvertFrom-Json -InputObject $before
                # Go writes up to 9 fractional digits; .NET parses at most 7.
                $written = ([DateTime] ("$($m.written)" -replace '(\.\d{7})\d+', '$1')).ToUniversalTime()
                Save-CrashEvidence "crash marker of an earlier run ($($m.scenario), written $($m.written))" $written $m
                Rename-Item -LiteralPath (Join-Path $runDir 'crash.json') -NewName 'crash-earlier-run.json'
            }
            Invoke-Command -Session $session -ArgumentList $guestRoot -ScriptBlock {
                param($root)
                New-Item -ItemType Directory -Force -Path "$root\labs" | Out-Null
                Remove-Item -Path "$root\labs\*.yaml" -ErrorAction SilentlyContinue
            }
            Copy-Item -ToSession $session -LiteralPath $Opt.SuiteBinary -Destination "$guestRoot\kbharness-suites.exe" -Force
            Copy-Item -ToSession $session -Path (Join-Path $Vm.LabDir '*.yaml') -Destination "$guestRoot\labs" -Force

            Say "running the suites in the guest (label filter: '$($Opt.LabelFilter)')"
            $job = Invoke-Command -Session $session -AsJob -ArgumentList $guestRoot, $guestReports, $Opt.LabelFilter, ($Opt.SuiteArgs -join "`n") -ScriptBlock {
                param($root, $reports, $filter, $extra)
                $suiteArgs = @('-test.v', '-test.timeout=0', "-kb.lab-dir=$root\labs", "-kb.report-dir=$reports")
                if ($filter) { $suiteArgs += "-ginkgo.label-filter=$filter" }
                $suiteArgs += @($extra -split "`n" | Where-Object { $_ })
                & "$root\kbharness-suites.exe" @suiteArgs 2>&1 | ForEach-Object { "$_" }
                New-Object psobject -Property @{ KbhExitCode = $LASTEXITCODE }
            }
            $drain = {
                foreach ($o in @(Receive-Job -Job $job -ErrorAction SilentlyContinue)) {
                    if ($o.PSObject.Properties['KbhExitCode']) { $result.exitCode = [int] $o.KbhExitCode }
                    else { Add-Content -LiteralPath $consoleFile -Value "$o"; Write-Host "[$name] $o" }
                }
            }
            $detected = Watch-Guest { $job.State -eq 'NotStarted' -or $job.State -eq 'Running' } $drain
            if (-not $detected -and $job.State -eq 'Failed') {
                $detected = "the PowerShell Direct session broke: $($job.JobStateInfo.Reason.Message)"
            }
            Remove-Job -Job $job -Force
            if ($detected) {
                Remove-PSSession $session
                $session = $null
            }
            else {
                $marker = Get-CrashMarker $session
                if ($marker) {
                    $marker = ConvertFrom-Json -InputObject $marker
                    $detected = "crash marker of $($marker.scenario) left: the suite did not finish"
                }
                try { Copy-Item -FromSession $session -Path "$guestReports\*" -Destination $runDir -Recurse -Force }
                catch { Say "reports not copied back: $($_.Exception.Message)" }
            }
        }
        else {
            Say "running the suites here against $($Vm.Target) (label filter: '$($Opt.LabelFilter)')"
            $argv = @('-test.v', '-test.timeout=0', "-kb.target=$($Vm.Target)", "-kb.lab-dir=$($Vm.LabDir)", "-kb.report-dir=$runDir")
            if ($Opt.LabelFilter) { $argv += "-ginkgo.label-filter=$($Opt.LabelFilter)" }
            $argv += $Opt.SuiteArgs
            $p = Start-Process -FilePath $Opt.SuiteBinary -ArgumentList (ConvertTo-ArgLine $argv) -WorkingDirectory $runDir `
                -RedirectStandardOutput $consoleFile -RedirectStandardError (Join-Path $runDir 'console.err.log') -NoNewWindow -PassThru
            $null = $p.Handle # without it ExitCode stays empty after the process exits
            $detected = Watch-Guest { -not $p.HasExited } $null
            if ($detected) {
                Save-CrashEvidence $detected $since $null
                $result.crashed = $true
                if (-not $p.WaitForExit($Opt.RebootTimeout * 1000)) {
                    Say "the suite binary still runs: stopping it; its undo journal stays here: kbharness cleanup --target $($Vm.Target)"
                    Stop-Process -Id $p.Id -Force
                }
                $detected = $null
            }
            $p.WaitForExit()
            $result.exitCode = $p.ExitCode
        }

        if ($detected) {
            Save-CrashEvidence $detected $since $marker
            $result.crashed = $true
            if (-not $session -and $direct) {
                # What the suites wrote before the crash, if the guest kept it.
                try {
                    $session = Wait-Guest $true
                    Copy-Item -FromSession $session -Path "$guestReports\*" -Destination $runDir -Recurse -Force -ErrorAction SilentlyContinue
                }
                catch { Say "reports not copied back: $($_.Exception.Message)" }
            }
        }
        Say "exit code $($result.exitCode)$(if ($result.crashed) { ', guest crashed' })"
    }
    catch {
        $result.error = $_.Exception.Message
        Say "failed: $($result.error)"
    }
    finally {
        if ($session) { Remove-PSSession $session }
        if ($tookCheckpoint) {
            Say "applying checkpoint $checkpointName"
            try {
                Restore-VMSnapshot -VMName $name -Name $checkpointName -Confirm:$false
                Remove-VMSnapshot -VMName $name -Name $checkpointName
                Start-VM -Name $name -ErrorAction SilentlyContinue
            }
            catch { Say "checkpoint not applied: $($_.Exception.Message)" }
        }
        $result.finished = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ')
        Write-Utf8Json (Join-Path $runDir 'run-vm.json') $result
    }
    [pscustomobject] $result
}

$opt = @{
    Credential = $Credential; SuiteBinary = $SuiteBinary; LabelFilter = $LabelFilter; SuiteArgs = @($SuiteArgs)
    OutDir = $OutDir; Checkpoint = [bool] $Checkpoint; HeartbeatGrace = $HeartbeatGraceSeconds
    RebootTimeout = $RebootTimeoutSeconds; NoMemoryDump = [bool] $NoMemoryDump
    Stamp = (Get-Date -Format 'yyyyMMdd-HHmmss')
}
New-Item -ItemType Directory -Force -Path $OutDir | Out-Null

# A legacy guest's suite binary runs here and reads the password from its environment.
$passwordSet = $false
if (@($vms | Where-Object { $_.Target }).Count -gt 0) {
    $env:KBHARNESS_PASSWORD = $Credential.GetNetworkCredential().Password
    $passwordSet = $true
}
$results = @()
try {
    if ($vms.Count -eq 1 -or $ThrottleLimit -eq 1) {
        foreach ($vm in $vms) { $results += & $worker $vm $opt }
    }
    else {
        Write-Host "run-vm: $($vms.Count) VMs, $ThrottleLimit at a time: $(($vms | ForEach-Object { $_.Name }) -join ', ')"
        $pool = [RunspaceFactory]::CreateRunspacePool(1, $ThrottleLimit, [Management.Automation.Runspaces.InitialSessionState]::CreateDefault(), $Host)
        $pool.Open()
        $running = @()
        try {
            foreach ($vm in $vms) {
                $ps = [PowerShell]::Create()
                $ps.RunspacePool = $pool
                $null = $ps.AddScript($worker.ToString()).AddArgument($vm).AddArgument($opt)
                $running += [pscustomobject]@{ VM = $vm.Name; PS = $ps; Handle = $ps.BeginInvoke() }
            }
            foreach ($r in $running) {
                try { $results += $r.PS.EndInvoke($r.Handle) }
                catch { $results += [pscustomobject]@{ vm = $r.VM; exitCode = $null; crashed = $false; error = $_.Exception.Message } }
                finally { $r.PS.Dispose() }
            }
        }
        finally { $pool.Close(); $pool.Dispose() }
    }
}
finally {
    if ($passwordSet) { Remove-Item Env:\KBHARNESS_PASSWORD -ErrorAction SilentlyContinue }
}

Write-Host "run-vm: runs in $OutDir"
foreach ($r in $results) {
    $verdict = if ($r.error) { "error: $($r.error)" } elseif ($r.crashed) { 'guest crashed' } else { "exit code $($r.exitCode)" }
    Write-Host ("  {0,-20} {1}" -f $r.vm, $verdict)
}
$failed = @($results | Where-Object { $_.error -or $_.crashed -or $_.exitCode -ne 0 })
if ($results.Count -eq 1 -and -not $results[0].crashed -and $null -ne $results[0].exitCode) { exit $results[0].exitCode }
if ($failed.Count -gt 0 -or $results.Count -ne $vms.Count) { exit 1 }
exit 0
