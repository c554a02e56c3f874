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

# The check: /healthz answers in the scheme web.yml sets up. Only the scrape password's hash is on the
# till, so with basic auth a 401 is the right answer: it shows TLS works and every path asks for
# credentials. The certificate names the till's address, not 127.0.0.1, and only liveness is checked
# here, so it is not verified; Windows PowerShell 5.1 offers TLS 1.0 unless told, and the exporter
# refuses anything below TLS 1.2.
$scheme = if (Select-String -Path "$data\web.yml" -Pattern '^tls_server_config:' -Quiet) { 'https' } else { 'http' }
$url = "${scheme}://127.0.0.1:9835/healthz"
[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
[Net.ServicePointManager]::ServerCertificateValidationCallback = { $true }
function Get-HealthStatus {
  $request = [Net.HttpWebRequest]::Create($url)
  $request.Timeout = 5000
  try {
    $response = $request.GetResponse()
    $code = [int]$response.StatusCode
    $response.Close()
    return $code
  } catch {
    # PowerShell wraps the WebException; a 401 or 500 still carries its response.
    $e = $_.Exception
    while ($e -and -not ($e -is [Net.WebException])) { $e = $e.InnerException }
    if ($e -and $e.Response) { return [int]$e.Response.StatusCode }
    return 0
  }
}
$status = 0
for ($i = 0; $i -lt 15 -and $status -eq 0; $i++) {
  Start-Sleep -Seconds 2
  $status = Get-HealthStatus
}
if ($status -eq 200 -or $status -eq 401) {
  "tillwatch-exporter answers on $url (HTTP $status)"
} else {
  throw "tillwatch-exporter does not answer on $url (status $status); see C:\ProgramData\TillWatch\logs"
}
