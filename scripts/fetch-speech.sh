#!/usr/bin/env bash
# Spoken digits "zero".."nine" from three Debian speech engines, 16 kHz mono 16-bit WAV, in
# data/speech/{train,test}/<digit>/. The test split uses voices never used in training (two espeak-ng
# accents and flite's slt speaker), so accuracy there measures generalisation to new voices.
# Train clips are augmented with sox (tempo, pitch, light noise). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
out=data/speech
[ -f "$out/.done" ] && { echo "speech: already in $out"; exit 0; }
need=()
for p in espeak-ng flite festival festvox-kallpc16k sox; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
rm -rf "$out"; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
words=(zero one two three four five six seven eight nine)
jobs="$tmp/jobs"; : > "$jobs"
# One line per clip: split digit name engine args...
for d in 0 1 2 3 4 5 6 7 8 9; do
  w=${words[$d]}
  for v in en-us en-gb en-gb-scotland en-gb-x-gbclan en-029; do
    for var in m1 m3 m7 f1 f2 f4; do
      for s in 130 175; do
        for p in 35 65; do echo "train $d ${v}_${var}_${s}_${p} espeak -v $v+$var -s $s -p $p $w" >> "$jobs"; done
      done
    done
  done
  for v in kal awb rms; do echo "train $d flite_$v flite -voice $v -t $w" >> "$jobs"; done
  echo "train $d festival_kal festival $w" >> "$jobs"
  for v in en-gb-x-rp en-gb-x-gbcwmd; do
    for var in m2 m5 f3 f5; do
      for s in 135 170; do echo "test $d ${v}_${var}_$s espeak -v $v+$var -s $s -p 50 $w" >> "$jobs"; done
    done
  done
  echo "test $d flite_slt flite -voice slt -t $w" >> "$jobs"
  echo "test $d flite_slt_slow flite -voice slt --setf duration_stretch=1.3 -t $w" >> "$jobs"
  echo "test $d flite_slt_fast flite -voice slt --setf duration_stretch=0.8 -t $w" >> "$jobs"
done
make_clip() {
  split=$1 d=$2 name=$3 engine=$4; shift 4
  dir=data/speech/$split/$d; mkdir -p "$dir"
  raw=$(mktemp --suffix=.wav)
  case $engine in
    espeak) espeak-ng "${@:1:$#-1}" -w "$raw" "${@: -1}" ;;
    flite) flite "$@" -o "$raw" ;;
    festival) echo "${@: -1}" | text2wave -eval '(voice_kal_diphone)' -o "$raw" ;;
  esac
  sox -V1 "$raw" -r 16000 -c 1 -b 16 "$dir/$name.wav" gain -n -3
  if [ "$split" = train ]; then
    sox "$dir/$name.wav" "$dir/${name}_tempo.wav" tempo 0.88
    sox "$dir/$name.wav" "$dir/${name}_pitch.wav" pitch -150
    sox "$dir/$name.wav" -p synth whitenoise vol 0.01 2>/dev/null | sox -m "$dir/$name.wav" - -b 16 "$dir/${name}_noise.wav"
  fi
  rm -f "$raw"
}
export -f make_clip
tr '\n' '\0' < "$jobs" | xargs -0 -P "$(nproc)" -I{} bash -c 'make_clip {}'
touch "$out/.done"
echo "speech: $(find $out/train -name '*.wav' | wc -l) train clips, $(find $out/test -name '*.wav' | wc -l) test clips (test voices never in train)"
