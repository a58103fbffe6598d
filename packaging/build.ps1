# Windows recipe: builds the one-folder bundle packaging\dist\opro-studio\ holding
# opro-gui.exe (windowed) and opro.exe (console), sharing one _internal\ folder.
#
# UNTESTED: written on Linux without a Windows machine. It mirrors build.sh step by step; expect
# to adjust it on first use. No installer (MSI/Inno Setup) and no code signing: SmartScreen will
# warn on first start. Zip the folder to distribute it.
#
#   powershell -ExecutionPolicy Bypass -File packaging\build.ps1 [-Fresh] [-Python py]
param(
    [switch]$Fresh,
    [string]$Python = "py"
)
$ErrorActionPreference = "Stop"

$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
$Root = Split-Path -Parent $Here
$Venv = Join-Path $Here "build\venv-windows"
$Dist = Join-Path $Here "dist"

if ($Fresh) {
    Remove-Item -Recurse -Force -ErrorAction SilentlyContinue $Venv, (Join-Path $Here "build\work-windows"), $Dist
}

$Start = Get-Date
if (-not (Test-Path (Join-Path $Venv "Scripts\python.exe"))) {
    if ($Python -eq "py") { & py -3.11 -m venv $Venv } else { & $Python -m venv $Venv }
    if ($LASTEXITCODE -ne 0) { throw "could not create the venv" }
}
$Py = Join-Path $Venv "Scripts\python.exe"

function Invoke-Step([string[]]$Arguments) {
    & $Py @Arguments
    if ($LASTEXITCODE -ne 0) { throw "failed: python $($Arguments -join ' ')" }
}

Invoke-Step @("-m", "pip", "install", "--quiet", "--upgrade", "pip")
Invoke-Step @("-m", "pip", "install", "--quiet", "-r", (Join-Path $Here "requirements.txt"))
# The wheel built from the sdist (a plain `pip install .` can pick up stale modules in build\lib).
$WheelDir = Join-Path $Here "build\wheel-windows"
Remove-Item -Recurse -Force -ErrorAction SilentlyContinue $WheelDir
Invoke-Step @("-m", "build", "--outdir", $WheelDir, $Root)
$Wheel = (Get-ChildItem (Join-Path $WheelDir "*.whl") | Select-Object -First 1).FullName
Invoke-Step @("-m", "pip", "install", "--quiet", $Wheel)
Invoke-Step @("-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", $Wheel)
Invoke-Step @("-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
    "--distpath", $Dist, "--workpath", (Join-Path $Here "build\work-windows"),
    (Join-Path $Here "opro-studio.spec"))

$Bundle = Join-Path $Dist "opro-studio"
$Version = & $Py -c "import opro_gui; print(opro_gui.__version__)"
$Zip = Join-Path $Dist "opro-studio-$Version-windows-x64.zip"
if (Test-Path $Zip) { Remove-Item $Zip }
Compress-Archive -Path $Bundle -DestinationPath $Zip

$Seconds = [int]((Get-Date) - $Start).TotalSeconds
$SizeMB = [math]::Round(((Get-ChildItem -Recurse -File $Bundle | Measure-Object Length -Sum).Sum / 1MB), 1)
Write-Host "build time: $Seconds s"
Write-Host "bundle size: $SizeMB MB ($Bundle)"
Write-Host "zip: $Zip"
Write-Host "smoke test: python packaging\smoke_test.py --bundle `"$Bundle`""
