# Installs the TillWatch exporter service on a Windows till. Run as Administrator from the folder
# holding tillwatch-exporter.exe (WinSW), tillwatch-exporter.xml, node\ and exporter\.
#   powershell -ExecutionPolicy Bypass -File install.ps1 -Config .\exporter.yml -WebConfig .\web.yml [-AllowFrom 10.0.0.0/8]
# The web config (TLS and/or basic auth, docs/security.md) is required: the exporter refuses one that
# protects nothing, and a till's metrics are not for anyone on the store network.
param(
  [Parameter(Mandatory = $true)][string]$Config,
  [Parameter(Mandatory = $true)][string]$WebConfig,
  [string]$AllowFrom = 'LocalSubnet'
)
$ErrorActionPreference = 'Stop'
$base = Split-Path -Parent $MyInvocation.MyCommand.Path
$data = 'C:\ProgramData\TillWatch'
New-Item -ItemType Directory -Force -Path $data, "$data\logs" | Out-Null
Copy-Item $Config "$data\exporter.yml" -Force
Copy-Item $WebConfig "$data\web.yml" -Force

# The config is readable, not writable, by the service account; store users get nothing.
icacls $data /inheritance:r /grant:r 'Administrators:(OI)(CI)F' 'SYSTEM:(OI)(CI)F' 'NT AUTHORITY\LocalService:(OI)(CI)RX' | Out-Null
icacls "$data\logs" /grant:r 'NT AUTHORITY\LocalService:(OI)(CI)M' | Out-Null

# Only the monitoring network may scrape.
if (-not (Get-NetFirewallRule -Name 'TillWatchExporter' -ErrorAction SilentlyContinue)) {
  New-NetFirewallRule -Name 'TillWatchExporter' -DisplayName 'TillWatch exporter (9835)' -Direction Inbound `
    -Protocol TCP -LocalPort 9835 -RemoteAddress $AllowFrom -Action Allow | Out-Null
}

& "$base\tillwatch-exporter.exe" install
& "$base\tillwatch-exporter.exe" start
Start-Sleep -Seconds 5
# Listening is the check: every path needs the TLS and credentials of web.yml, which this script does not hold.
(Test-NetConnection -ComputerName 127.0.0.1 -Port 9835).TcpTestSucceeded
